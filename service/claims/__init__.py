"""Claims: building, batching and tracking insurance claims (837P/837D)."""
