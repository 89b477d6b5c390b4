"""Names kept from before the product moved to ``viewtrail``: documented ``python -m`` commands keep working."""
