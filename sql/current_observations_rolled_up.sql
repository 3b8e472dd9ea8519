-- current_observations.sql for a country that has municipal rows: municipalities (regions with a
-- parent) are added up to their first-level region, in one pass over the facts
-- (current_facts.sql). Where the country also sent the first-level value itself for the same
-- period, crime type and indicator, that value is taken as sent and its municipalities are not
-- added (stewards are told at validation when they send both in one file). The sum of
-- municipalities has the status: M when no part has a value, P when a part is provisional, E
-- when a part is estimated or missing (the sum is then short), A otherwise. Same parameters
-- and columns as current_observations.sql.
SELECT g.country, r.code AS region, g.period, g.crime_type, i.code AS indicator,
       g.value, g.obs_status, g.submission_id, g.coverage, g.warned
FROM (
    SELECT o.country, COALESCE(o.parent_id, o.region_id) AS unit_id, o.period_id, o.period,
           o.crime_type_id, o.crime_type, o.indicator_id,
           CASE WHEN MAX(CASE WHEN o.parent_id IS NULL THEN 1 ELSE 0 END) = 1
                THEN MAX(CASE WHEN o.parent_id IS NULL THEN o.value END)
                ELSE SUM(o.value) END AS value,
           CASE WHEN MAX(CASE WHEN o.parent_id IS NULL THEN 1 ELSE 0 END) = 1
                THEN MAX(CASE WHEN o.parent_id IS NULL THEN o.obs_status END)
                WHEN COUNT(o.value) = 0 THEN 'M'
                WHEN MAX(CASE WHEN o.obs_status = 'P' THEN 1 ELSE 0 END) = 1 THEN 'P'
                WHEN MAX(CASE WHEN o.obs_status IN ('E', 'M') THEN 1 ELSE 0 END) = 1 THEN 'E'
                ELSE 'A' END AS obs_status,
           CASE WHEN MAX(CASE WHEN o.parent_id IS NULL THEN 1 ELSE 0 END) = 1
                THEN MAX(CASE WHEN o.parent_id IS NULL THEN o.submission_id END)
                ELSE MIN(o.submission_id) END AS submission_id,
           CASE WHEN MAX(CASE WHEN o.parent_id IS NULL THEN 1 ELSE 0 END) = 1
                THEN MAX(CASE WHEN o.parent_id IS NULL THEN o.coverage END)
                ELSE MIN(o.coverage) END AS coverage,
           CASE WHEN MAX(CASE WHEN o.parent_id IS NULL THEN 1 ELSE 0 END) = 1
                THEN MAX(CASE WHEN o.parent_id IS NULL THEN o.warned ELSE 0 END)
                ELSE MAX(o.warned) END AS warned
    FROM ({current_facts}) AS o
    GROUP BY o.country, COALESCE(o.parent_id, o.region_id), o.period_id, o.period,
             o.crime_type_id, o.crime_type, o.indicator_id
) AS g
JOIN regions AS r ON r.id = g.unit_id
JOIN indicators AS i ON i.id = g.indicator_id
ORDER BY g.country, g.unit_id, g.crime_type_id, g.indicator_id, g.period_id
