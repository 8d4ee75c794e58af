"""The analysis corpus: migration cases with the exact rule ids each must produce."""
