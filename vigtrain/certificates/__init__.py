"""Certificates: issuing (one at a time or in bulk), the lifecycle (expiry, renewal, revocation,
reissue on a change of name), the PDF, and the public side (verification pages, the register,
Open Badges credentials and their status list).

A certificate's facts are copied at issue and never change; a change of name or a renewal is a
new certificate that supersedes the old one, linked both ways, so the lineage stays readable.
Numbers are random with a check character (vigtrain.codes) so a mistyped number is caught.
"""
