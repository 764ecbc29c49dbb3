-- Forget the views an earlier load recorded (the same transaction records the ones just created).
DELETE FROM view_catalog
