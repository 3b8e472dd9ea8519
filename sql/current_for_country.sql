-- Current (not superseded) observations of one country: the history a new submission is
-- checked against. Bind parameter: country.
SELECT o.region, o.period, o.crime_type, o.indicator, o.value AS value_number
FROM observations AS o
WHERE o.superseded_by IS NULL AND o.country = :country
