SELECT
  order_date,
  country,
  COUNT(*) AS orders,
  SUM(amount) AS revenue
FROM `acme-dev-landing.sales_landing.orders`
GROUP BY order_date, country
