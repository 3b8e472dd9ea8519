-- Current (not superseded) observations of a span of years (annual, quarterly and monthly
-- periods), with the months a partial year covers and a flag for rows that carry a
-- validation warning. Read from the fact table with its lookups (the year is the periods'
-- own column: no string is cut per row).
-- Bind parameters: first_year and last_year, as integers; country, a member's code or NULL for
-- all (one country reads its partition alone on PostgreSQL).
SELECT f.country, r.code AS region, p.code AS period, c.code AS crime_type,
       i.code AS indicator, f.value, f.obs_status, f.submission_id, f.coverage,
       CASE WHEN EXISTS (SELECT 1 FROM validation_results AS v
                         WHERE v.submission_id = f.submission_id AND v."row" = f.source_row
                           AND v.severity = 'warning') THEN 1 ELSE 0 END AS warned
FROM observation_facts AS f
JOIN periods AS p ON p.id = f.period_id
JOIN regions AS r ON r.id = f.region_id
JOIN crime_types AS c ON c.id = f.crime_type_id
JOIN indicators AS i ON i.id = f.indicator_id
WHERE f.superseded_by IS NULL
  AND p.year BETWEEN :first_year AND :last_year
  AND (:country IS NULL OR f.country = :country)
ORDER BY f.country, r.code, c.code, i.code, p.code
