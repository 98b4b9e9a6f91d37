"""Official documents (feedback letters, filing reports) as PDFs, the filing register and exports."""
