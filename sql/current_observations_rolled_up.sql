-- current_observations.sql for a country that has municipal rows: municipalities (regions with a
-- parent) are added up to their first-level region, in one pass over the facts. Where the
-- country also sent the first-level value itself for the same period, crime type and indicator,
-- that value is taken as sent and its municipalities are not added (stewards are told at
-- validation when they send both in one file). The sum of municipalities has the status:
-- M when no part has a value, P when a part is provisional, E when a part is estimated or
-- missing (the sum is then short), A otherwise. Same parameters and columns as
-- current_observations.sql.
SELECT g.country, r.code AS region, p.code AS period, c.code AS crime_type, i.code AS indicator,
       g.value, g.obs_status, g.submission_id, g.coverage, g.warned
FROM (
    SELECT f.country, COALESCE(r.parent_id, f.region_id) AS unit_id, f.period_id,
           f.crime_type_id, f.indicator_id,
           CASE WHEN MAX(CASE WHEN r.parent_id IS NULL THEN 1 ELSE 0 END) = 1
                THEN MAX(CASE WHEN r.parent_id IS NULL THEN f.value END)
                ELSE SUM(f.value) END AS value,
           CASE WHEN MAX(CASE WHEN r.parent_id IS NULL THEN 1 ELSE 0 END) = 1
                THEN MAX(CASE WHEN r.parent_id IS NULL THEN f.obs_status END)
                WHEN COUNT(f.value) = 0 THEN 'M'
                WHEN MAX(CASE WHEN f.obs_status = 'P' THEN 1 ELSE 0 END) = 1 THEN 'P'
                WHEN MAX(CASE WHEN f.obs_status IN ('E', 'M') THEN 1 ELSE 0 END) = 1 THEN 'E'
                ELSE 'A' END AS obs_status,
           CASE WHEN MAX(CASE WHEN r.parent_id IS NULL THEN 1 ELSE 0 END) = 1
                THEN MAX(CASE WHEN r.parent_id IS NULL THEN f.submission_id END)
                ELSE MIN(f.submission_id) END AS submission_id,
           CASE WHEN MAX(CASE WHEN r.parent_id IS NULL THEN 1 ELSE 0 END) = 1
                THEN MAX(CASE WHEN r.parent_id IS NULL THEN f.coverage END)
                ELSE MIN(f.coverage) END AS coverage,
           CASE WHEN MAX(CASE WHEN r.parent_id IS NULL THEN 1 ELSE 0 END) = 1
                THEN MAX(CASE WHEN r.parent_id IS NULL AND w.submission_id IS NOT NULL THEN 1 ELSE 0 END)
                ELSE MAX(CASE WHEN w.submission_id IS NULL THEN 0 ELSE 1 END) END AS warned
    FROM observation_facts AS f
    JOIN periods AS p ON p.id = f.period_id
    JOIN regions AS r ON r.id = f.region_id
    JOIN crime_types AS c ON c.id = f.crime_type_id
    LEFT JOIN (SELECT DISTINCT v.submission_id, v."row" FROM validation_results AS v
               WHERE v.severity = 'warning') AS w
           ON w.submission_id = f.submission_id AND w."row" = f.source_row
    WHERE f.superseded_by IS NULL
      AND p.year BETWEEN :first_year AND :last_year
      AND (:country IS NULL OR f.country = :country)
      AND (:all_crime_types = 1 OR c.code IN :crime_types)
    GROUP BY f.country, COALESCE(r.parent_id, f.region_id), f.period_id, f.crime_type_id,
             f.indicator_id
) AS g
JOIN regions AS r ON r.id = g.unit_id
JOIN periods AS p ON p.id = g.period_id
JOIN crime_types AS c ON c.id = g.crime_type_id
JOIN indicators AS i ON i.id = g.indicator_id
ORDER BY g.country, g.unit_id, g.crime_type_id, g.indicator_id, g.period_id
