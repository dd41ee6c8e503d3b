SELECT event_id, event_date
FROM `acme-test-lnd.acme_test_sales_landing.events`
WHERE amount > 0
