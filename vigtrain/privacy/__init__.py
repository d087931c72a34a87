"""UK GDPR requests about a person: subject access (everything held about them) and erasure, and the
retention schedule that forgets what has passed its period. It reads every domain, so it sits above them."""
