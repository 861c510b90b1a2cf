"""Paper letters: the establishment's templates filled and laid out for a window envelope, printed with WeasyPrint."""

from teleservices.notifier.pdf.letter import (
    LetterData,
    document_html,
    qr_payload,
    qr_svg,
    recipient_address,
    render_letter_html,
    split_header,
    values,
)
from teleservices.notifier.pdf.render import (
    PdfRenderer,
    encode_letters,
    harfbuzz_subset_available,
    pdf_process_pool,
    render_in_worker,
    render_letters_pdf,
    start_worker,
    warm_up,
)

__all__ = [
    "LetterData",
    "PdfRenderer",
    "document_html",
    "encode_letters",
    "harfbuzz_subset_available",
    "pdf_process_pool",
    "qr_payload",
    "qr_svg",
    "recipient_address",
    "render_in_worker",
    "render_letter_html",
    "render_letters_pdf",
    "split_header",
    "start_worker",
    "values",
    "warm_up",
]
