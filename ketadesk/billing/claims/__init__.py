"""Insurance claims: which charges go to an insurer, the claims built from them, their checks,
their status history, the batches sent as 837P files and the 835 remittances posted back."""
