-- Exposure view: daily sales by product category and customer country, without PII.
-- It reads only non-sensitive columns of curated tables and is authorized on the curated
-- dataset, so analysts query it without any access to curated (or to the PII columns).
-- Cancelled orders are not sales; returned ones are kept and counted separately.
SELECT
  o.order_date,
  COALESCE(p.category, 'unknown') AS product_category,
  COALESCE(c.country_code, 'unknown') AS customer_country,
  COUNT(DISTINCT o.order_id) AS order_count,
  COUNT(DISTINCT o.customer_id) AS customer_count,
  SUM(o.quantity) AS units,
  SUM(o.amount) AS revenue_eur,
  COUNTIF(o.status = 'returned') AS returned_count
FROM `acme-demo-cur.acme_demo_store_curated.orders` AS o
LEFT JOIN `acme-demo-cur.acme_demo_store_curated.products` AS p
  ON p.product_id = o.product_id
LEFT JOIN `acme-demo-cur.acme_demo_store_curated.customers` AS c
  ON c.customer_id = o.customer_id
WHERE o.status != 'cancelled'
GROUP BY o.order_date, product_category, customer_country
