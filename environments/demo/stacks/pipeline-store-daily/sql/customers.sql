-- Landing -> curated customers: typed, one row per customer_id, idempotent.
-- Landing holds every delivered file as raw text (files can be delivered twice), so the
-- newest version of each key is picked by its source change time; re-running the MERGE
-- on the same landing data changes nothing. Strict CASTs make a malformed value fail the
-- job (and keep the files in landing) instead of turning it into a silent NULL.
MERGE `acme-demo-cur.acme_demo_store_curated.customers` AS target
USING (
  WITH typed AS (
    SELECT
      NULLIF(TRIM(customer_id), '') AS customer_id,
      NULLIF(TRIM(full_name), '') AS full_name,
      LOWER(NULLIF(TRIM(email), '')) AS email,
      NULLIF(TRIM(phone), '') AS phone,
      CAST(NULLIF(TRIM(birth_date), '') AS DATE) AS birth_date,
      UPPER(NULLIF(TRIM(country_code), '')) AS country_code,
      NULLIF(TRIM(city), '') AS city,
      CAST(NULLIF(TRIM(signup_date), '') AS DATE) AS signup_date,
      CAST(NULLIF(TRIM(updated_at), '') AS TIMESTAMP) AS updated_at
    FROM `acme-demo-lnd.acme_demo_store_landing.customers`
  )
  SELECT *
  FROM typed
  WHERE customer_id IS NOT NULL
  -- The JSON of the whole row breaks ties between versions with the same timestamp, so
  -- the result does not depend on the order BigQuery reads the rows in.
  QUALIFY ROW_NUMBER() OVER (
    PARTITION BY customer_id ORDER BY updated_at DESC, TO_JSON_STRING(typed) DESC
  ) = 1
) AS source
ON target.customer_id = source.customer_id
WHEN MATCHED AND source.updated_at > target.updated_at THEN UPDATE SET
  full_name = source.full_name,
  email = source.email,
  phone = source.phone,
  birth_date = source.birth_date,
  country_code = source.country_code,
  city = source.city,
  signup_date = source.signup_date,
  updated_at = source.updated_at
WHEN NOT MATCHED THEN INSERT (
  customer_id, full_name, email, phone, birth_date, country_code, city, signup_date, updated_at
) VALUES (
  source.customer_id, source.full_name, source.email, source.phone, source.birth_date,
  source.country_code, source.city, source.signup_date, source.updated_at
)
