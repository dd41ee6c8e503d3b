-- Landing -> curated products: typed, one row per product_id, idempotent.
-- Same pattern as customers.sql: newest source version per key wins, MERGE only moves a
-- row forward in time, strict CASTs fail the job on malformed values.
MERGE `acme-demo-cur.acme_demo_store_curated.products` AS target
USING (
  WITH typed AS (
    SELECT
      NULLIF(TRIM(product_id), '') AS product_id,
      NULLIF(TRIM(product_name), '') AS product_name,
      NULLIF(TRIM(category), '') AS category,
      CAST(NULLIF(TRIM(unit_price), '') AS NUMERIC) AS unit_price,
      CAST(LOWER(NULLIF(TRIM(active), '')) AS BOOL) AS active,
      CAST(NULLIF(TRIM(updated_at), '') AS TIMESTAMP) AS updated_at
    FROM `acme-demo-lnd.acme_demo_store_landing.products`
  )
  SELECT *
  FROM typed
  WHERE product_id IS NOT NULL
  QUALIFY ROW_NUMBER() OVER (
    PARTITION BY product_id ORDER BY updated_at DESC, TO_JSON_STRING(typed) DESC
  ) = 1
) AS source
ON target.product_id = source.product_id
WHEN MATCHED AND source.updated_at > target.updated_at THEN UPDATE SET
  product_name = source.product_name,
  category = source.category,
  unit_price = source.unit_price,
  active = source.active,
  updated_at = source.updated_at
WHEN NOT MATCHED THEN INSERT (
  product_id, product_name, category, unit_price, active, updated_at
) VALUES (
  source.product_id, source.product_name, source.category, source.unit_price, source.active,
  source.updated_at
)
