-- Landing -> curated orders: typed, one row per order_id, idempotent.
-- An order changes over time (placed -> shipped -> delivered); the newest version by
-- source change time wins. order_date (the partitioning column) and amount are derived
-- here so that every reader computes them the same way.
MERGE `acme-demo-cur.acme_demo_ecommerce_curated.orders` AS target
USING (
  WITH typed AS (
    SELECT
      NULLIF(TRIM(order_id), '') AS order_id,
      NULLIF(TRIM(customer_id), '') AS customer_id,
      NULLIF(TRIM(product_id), '') AS product_id,
      CAST(NULLIF(TRIM(order_ts), '') AS TIMESTAMP) AS order_ts,
      CAST(NULLIF(TRIM(quantity), '') AS INT64) AS quantity,
      CAST(NULLIF(TRIM(unit_price), '') AS NUMERIC) AS unit_price,
      LOWER(NULLIF(TRIM(status), '')) AS status,
      LOWER(NULLIF(TRIM(channel), '')) AS channel,
      CAST(NULLIF(TRIM(updated_at), '') AS TIMESTAMP) AS updated_at
    FROM `acme-demo-lnd.acme_demo_ecommerce_landing.orders`
  )
  SELECT
    * EXCEPT (order_ts, quantity, unit_price),
    order_ts,
    DATE(order_ts, 'UTC') AS order_date,
    quantity,
    unit_price,
    quantity * unit_price AS amount
  FROM typed
  WHERE order_id IS NOT NULL
  QUALIFY ROW_NUMBER() OVER (
    PARTITION BY order_id ORDER BY updated_at DESC, TO_JSON_STRING(typed) DESC
  ) = 1
) AS source
ON target.order_id = source.order_id
WHEN MATCHED AND source.updated_at > target.updated_at THEN UPDATE SET
  customer_id = source.customer_id,
  product_id = source.product_id,
  order_ts = source.order_ts,
  order_date = source.order_date,
  quantity = source.quantity,
  unit_price = source.unit_price,
  amount = source.amount,
  status = source.status,
  channel = source.channel,
  updated_at = source.updated_at
WHEN NOT MATCHED THEN INSERT (
  order_id, customer_id, product_id, order_ts, order_date, quantity, unit_price, amount,
  status, channel, updated_at
) VALUES (
  source.order_id, source.customer_id, source.product_id, source.order_ts, source.order_date,
  source.quantity, source.unit_price, source.amount, source.status, source.channel,
  source.updated_at
)
