"""The X12 5010 layer claims and remittance share: value cleaning and segment assembly
(segments), the ISA/GS/ST envelope (envelope), the tokenizer for inbound files (tokens) and
pyx12 validation (validate). It knows no claim or payment: values in, text out, and back."""
