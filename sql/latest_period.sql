-- The most recent year with current observations.
SELECT MAX(p.year) AS year FROM periods AS p
WHERE EXISTS (SELECT 1 FROM observation_facts AS f
              WHERE f.period_id = p.id AND f.superseded_by IS NULL)
