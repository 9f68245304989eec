"""corto.fun Data Stream contract rules (CONTRACTS.md section 3)."""
