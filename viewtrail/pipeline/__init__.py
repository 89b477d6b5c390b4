"""The pipeline's durable steps outside dbt: the request queues, staging and publishing the analyst copy."""
