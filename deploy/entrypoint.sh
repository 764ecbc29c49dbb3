#!/bin/sh
# The image's entry point: drop every empty environment variable, then run the command.
#
# DockerRunLauncher hands each run container every variable deploy/dagster.docker.yaml names, and the compose
# file sets the optional ones to "" when deploy/.env leaves them out. To this project an empty variable means
# "not set", but not to the AWS SDKs: deltalake fails on AWS_ENDPOINT_URL="" (a relative URL) where an unset one
# means AWS itself. Unsetting the empty ones gives every program the default it would have without them.
for name in $(env | sed -n 's/^\([A-Za-z_][A-Za-z0-9_]*\)=$/\1/p'); do
    eval "value=\${$name-}"
    if [ -z "$value" ]; then
        unset "$name"
    fi
done
exec "$@"
