-- The most recent year with current observations (first four characters of the period).
SELECT MAX(SUBSTR(period, 1, 4)) AS year FROM observations WHERE superseded_by IS NULL
