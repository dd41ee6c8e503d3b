DROP TABLE `acme-test-cur.acme_test_sales_curated.events`
