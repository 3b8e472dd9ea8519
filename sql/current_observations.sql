-- Current observations of a span of years as they were sent (current_facts.sql, with the
-- indicator's code), in the order of the integer keys (deterministic, and cheap to sort).
-- Parameters: those of current_facts.sql.
SELECT o.country, o.region, o.period, o.crime_type, i.code AS indicator, o.value, o.obs_status,
       o.submission_id, o.coverage, o.warned
FROM ({current_facts}) AS o
JOIN indicators AS i ON i.id = o.indicator_id
ORDER BY o.country, o.region_id, o.crime_type_id, o.indicator_id, o.period_id
