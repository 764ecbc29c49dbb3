-- Every row of one bundled view (`assistants-export query --view NAME`).
SELECT * FROM {view}
