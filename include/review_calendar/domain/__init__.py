"""Pure rules and vocabulary of the programmes: no database, no files beyond the programme and holiday configuration."""
