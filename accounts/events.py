"""What accounts announces for others to record: accounts imports no other app, so it never calls them.

``two_factor_event`` is sent with: action ("otp_enrolled", "otp_verified", "otp_failed",
"otp_recovery_used", "otp_reset"), success, request, user, and optionally detail, object_type,
object_id. The audit app records it.
"""

from django.dispatch import Signal

two_factor_event = Signal()
