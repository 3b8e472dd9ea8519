-- Current (not superseded) observations of a span of years (annual, quarterly and monthly
-- periods), with the months a partial year covers and a flag for rows that carry a
-- validation warning.
-- Bind parameters: first_year and last_year, as text ('2021', '2025').
SELECT o.country, o.region, o.period, o.crime_type, o.indicator, o.value, o.obs_status,
       o.submission_id, o.coverage,
       CASE WHEN EXISTS (SELECT 1 FROM validation_results AS v
                         WHERE v.submission_id = o.submission_id AND v."row" = o.source_row
                           AND v.severity = 'warning') THEN 1 ELSE 0 END AS warned
FROM observations AS o
WHERE o.superseded_by IS NULL
  AND SUBSTR(o.period, 1, 4) BETWEEN :first_year AND :last_year
ORDER BY o.country, o.region, o.crime_type, o.indicator, o.period
