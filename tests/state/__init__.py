"""What the model keeps: histories, counters, the cost-aware scheduler."""
