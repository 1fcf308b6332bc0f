"""Imports every feature's models so that ``Base.metadata`` knows every table (Alembic, tests).

Add one line per feature models module.
"""

from confbridge.alarms import models as alarms_models  # noqa: F401
from confbridge.audit import models as audit_models  # noqa: F401
from confbridge.auth import models as auth_models  # noqa: F401
from confbridge.booking import blackout_models  # noqa: F401
from confbridge.booking import models as booking_models  # noqa: F401
from confbridge.booking import templates as booking_templates  # noqa: F401
from confbridge.directory import groups as directory_groups  # noqa: F401
from confbridge.directory import models as directory_models  # noqa: F401
from confbridge.invites import alarm_mail_models  # noqa: F401
from confbridge.invites import models as invites_models  # noqa: F401
from confbridge.invites import reminder_models as invites_reminders  # noqa: F401
from confbridge.launch import models as launch_models  # noqa: F401
from confbridge.launch import preflight_models  # noqa: F401
from confbridge.monitor import models as monitor_models  # noqa: F401
