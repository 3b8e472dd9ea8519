-- The current (not superseded) facts of a span of years (annual, quarterly and monthly
-- periods), with their region, period and crime-type codes, the region's parent (a
-- municipality's first-level region, else NULL), the months a partial year covers ('looks
-- partial': months unknown) and a flag
-- for rows that carry a validation warning; filtered through the lookups (the year is the
-- periods' own column: no string is cut per row). Read by current_observations.sql and
-- current_observations_rolled_up.sql, which put it where they say {current_facts}.
-- Bind parameters: first_year and last_year, as integers; country, a member's code or NULL for
-- all (one country reads its partition alone on PostgreSQL); crime_types, a list of ICCS codes
-- (the assessment reads a large country a few crime types at a time) or NULL for all.
SELECT f.country, f.region_id, r.code AS region, r.parent_id, f.period_id, p.code AS period,
       f.crime_type_id, c.code AS crime_type, f.indicator_id, f.value, f.obs_status,
       f.submission_id,
       -- an annual figure the validation found far below the year before, in a file without
       -- months ("2025 looks partial"): a partial year whose months are unknown, never a year
       -- (the same rule is in country_years.sql, which the reference year is computed from)
       COALESCE(f.coverage, CASE WHEN pp.submission_id IS NOT NULL THEN 'looks partial' END) AS coverage,
       CASE WHEN w.submission_id IS NULL THEN 0 ELSE 1 END AS warned
FROM observation_facts AS f
JOIN periods AS p ON p.id = f.period_id
JOIN regions AS r ON r.id = f.region_id
JOIN crime_types AS c ON c.id = f.crime_type_id
LEFT JOIN (SELECT DISTINCT v.submission_id, v."row" FROM validation_results AS v
           WHERE v.severity = 'warning') AS w
       ON w.submission_id = f.submission_id AND w."row" = f.source_row
LEFT JOIN (SELECT DISTINCT v.submission_id, v.value FROM validation_results AS v
           WHERE v.rule = 'partial_period') AS pp
       ON pp.submission_id = f.submission_id AND pp.value = p.code
WHERE f.superseded_by IS NULL
  AND p.year BETWEEN :first_year AND :last_year
  AND (:country IS NULL OR f.country = :country)
  AND (:all_crime_types = 1 OR c.code IN :crime_types)
