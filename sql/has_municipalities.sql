-- Whether any municipal code (a region with a parent) of a country was ever stored: prefix is
-- the country code and '%' ('BR%'), or '%' for all countries.
SELECT 1 FROM regions WHERE parent_id IS NOT NULL AND code LIKE :prefix LIMIT 1
