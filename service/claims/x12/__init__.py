"""Pure X12 5010 837P/837D writer and pyx12 validation: values in, text out."""
