-- Current (not superseded) observations of one year: the annual rows and any monthly or
-- quarterly rows of that year. Bind parameters: year ('2025') and year_prefix ('2025-%').
SELECT o.country, o.region, o.period, o.crime_type, o.indicator, o.value, o.obs_status,
       o.submission_id
FROM observations AS o
WHERE o.superseded_by IS NULL
  AND (o.period = :year OR o.period LIKE :year_prefix)
ORDER BY o.country, o.region, o.crime_type, o.indicator, o.period
