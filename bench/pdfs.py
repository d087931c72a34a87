"""Certificate PDFs per second per core, and the size of one certificate (DESIGN.md §5: >= 100/s/core, < 100 KB each).

    python -m bench.pdfs [--runs 5] [--count 200]

Renders `count` different certificates in one process on one thread, `runs` times, and reports
the median rate by CPU time (per core) and by the wall clock. No Flask and no database: the PDF
class draws from plain data, which is what a download costs once the certificate is loaded.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date

from vigtrain import codes
from vigtrain.certificates.pdf import CertificateData, CertificatePDF

TARGET_PER_SECOND = 100.0
TARGET_BYTES = 100_000  # less than 100 KB each
NAMES = ["Amira Khan", "Łukasz Nowak", "Siobhán O'Connell", "Nguyễn Thị Mai", "Priya Shah", "Tom Hughes"]


def certificate(index: int) -> CertificateData:
    body = f"{index:07d}"
    number = codes.format_code("AV", body + codes.check_symbol(body))
    return CertificateData(
        number=number,
        accreditation=index % 4 != 0,
        holder_name=NAMES[index % len(NAMES)],
        credential="Accredited VIG Practitioner" if index % 4 else "Stage 2 of the VIG Practitioner pathway",
        pathway_title="VIG Practitioner",
        pathway_version="2024.1",
        issued_on=date(2026, 3, 2),
        valid_until=date(2029, 3, 1) if index % 4 else None,
        issuer_name="Association for Video Interaction Guidance UK (AVIGuk)",
        signatory_name="AVIGuk Accreditation Panel",
        signatory_title="On behalf of the Association for Video Interaction Guidance UK",
        verify_url=f"https://vigtrain.example.org/verify/{number}",
    )


def measure(runs: int = 5, count: int = 200) -> dict:
    """Median PDFs per second (CPU time on one core, and wall clock) and one certificate's size."""
    data = [certificate(index) for index in range(count)]
    CertificatePDF(data[0]).render()  # fonts registered, modules warm
    cpu_rates, wall_rates = [], []
    for _ in range(runs):
        cpu, wall = time.process_time(), time.perf_counter()
        for item in data:
            CertificatePDF(item).render()
        cpu_rates.append(count / (time.process_time() - cpu))
        wall_rates.append(count / (time.perf_counter() - wall))
    per_core = statistics.median(cpu_rates)
    size = len(CertificatePDF(data[1]).render())
    return {
        "pdfs_per_second_per_core": round(per_core, 1),
        "pdfs_per_second_wall": round(statistics.median(wall_rates), 1),
        "runs": runs,
        "pdfs_per_run": count,
        "certificate_bytes": size,
        "target_per_second": TARGET_PER_SECOND,
        "target_bytes": TARGET_BYTES,
        "verdict": "PASS" if per_core >= TARGET_PER_SECOND and size < TARGET_BYTES else "FAIL",
    }


def markdown(result: dict) -> str:
    return (
        "\n## Certificate PDFs\n\n"
        f"Target (DESIGN.md §5): >= {result['target_per_second']:.0f} certificate PDFs per second per core, "
        f"each under {result['target_bytes'] // 1000} KB.\n\n"
        "| PDFs/s per core (CPU time) | PDFs/s (wall clock) | Size of one certificate | Verdict |\n"
        "|--:|--:|--:|---|\n"
        f"| {result['pdfs_per_second_per_core']} | {result['pdfs_per_second_wall']} | "
        f"{result['certificate_bytes']:,} bytes | {result['verdict']} |\n\n"
        f"Median of {result['runs']} runs of {result['pdfs_per_run']} different certificates in one thread.\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--count", type=int, default=200)
    args = parser.parse_args(argv)
    print(markdown(measure(args.runs, args.count)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
