-- Per country, year and period: how many current (not superseded) crime observations there
-- are and the months a partial year says it covers (population rows, crime type _T, are not
-- crime data). What the assessment's reference year and each member's status are computed
-- from (ideal.scoring.window).
SELECT f.country, p.year, p.code AS period, f.coverage, COUNT(*) AS n
FROM observation_facts AS f
JOIN periods AS p ON p.id = f.period_id
JOIN crime_types AS c ON c.id = f.crime_type_id
WHERE f.superseded_by IS NULL AND c.code <> '_T'
GROUP BY f.country, p.year, p.code, f.coverage
