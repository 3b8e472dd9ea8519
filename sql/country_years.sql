-- Per country, year and period: how many current (not superseded) crime observations there
-- are and the months a partial year says it covers ('looks partial' where the validation found
-- an annual figure far below the year before, in a file without months: as in
-- current_facts.sql). Population rows (crime type _T) are not crime data. What the assessment's
-- reference year and each member's status are computed from (ideal.scoring.window).
SELECT f.country, p.year, p.code AS period,
       COALESCE(f.coverage, CASE WHEN pp.submission_id IS NOT NULL THEN 'looks partial' END) AS coverage,
       COUNT(*) AS n
FROM observation_facts AS f
JOIN periods AS p ON p.id = f.period_id
JOIN crime_types AS c ON c.id = f.crime_type_id
LEFT JOIN (SELECT DISTINCT v.submission_id, v.value FROM validation_results AS v
           WHERE v.rule = 'partial_period') AS pp
       ON pp.submission_id = f.submission_id AND pp.value = p.code
WHERE f.superseded_by IS NULL AND c.code <> '_T'
GROUP BY f.country, p.year, p.code,
         COALESCE(f.coverage, CASE WHEN pp.submission_id IS NOT NULL THEN 'looks partial' END)
