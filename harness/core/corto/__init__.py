"""corto.fun Data Stream contract rules (contract §3)."""
