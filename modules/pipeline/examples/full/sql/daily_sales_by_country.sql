SELECT country, SUM(revenue) AS revenue
FROM `acme-dev-curated.sales_curated.daily_sales`
GROUP BY country
