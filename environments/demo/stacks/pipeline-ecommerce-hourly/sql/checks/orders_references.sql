-- Data-quality check across curated tables, run by the DAG after the transformations and
-- before archiving: every order references a known customer and product. BigQuery's
-- check operator fails when any column of the single row is FALSE.
SELECT
  COUNTIF(c.customer_id IS NULL) = 0 AS customers_exist,
  COUNTIF(p.product_id IS NULL) = 0 AS products_exist
FROM `acme-demo-cur.acme_demo_ecommerce_curated.orders` AS o
LEFT JOIN `acme-demo-cur.acme_demo_ecommerce_curated.customers` AS c
  ON c.customer_id = o.customer_id
LEFT JOIN `acme-demo-cur.acme_demo_ecommerce_curated.products` AS p
  ON p.product_id = o.product_id
