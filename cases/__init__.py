"""The case record: subject, accountability organisation, findings, evidence, statements."""
