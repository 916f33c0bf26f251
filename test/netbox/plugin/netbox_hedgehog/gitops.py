"""HedgehogResource: the real plugin's per-object GitOps state (models/gitops.py @ ef199048). Field names, types,
defaults, blank/null, choices, clean() checks, ordering and unique_together as there; behaviour is ours (none)."""
from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models

from netbox.models import NetBoxModel
from utilities.choices import ChoiceSet

from .models import HedgehogFabric, dns1123


class ResourceStateChoices(ChoiceSet):
    CHOICES = [('draft', 'Draft'), ('committed', 'Committed'), ('synced', 'Synced'), ('drifted', 'Drifted'),
               ('orphaned', 'Orphaned'), ('pending', 'Pending')]


# Not the fabric's drift_status choices.
RESOURCE_DRIFT_CHOICES = [('in_sync', 'In Sync'), ('spec_drift', 'Spec Drift'), ('desired_only', 'Desired Only'),
                          ('actual_only', 'Actual Only'), ('creation_pending', 'Creation Pending'),
                          ('deletion_pending', 'Deletion Pending')]
DRIFT_SEVERITY_CHOICES = [('none', 'No Drift'), ('low', 'Low'), ('medium', 'Medium'), ('high', 'High'),
                          ('critical', 'Critical')]


class HedgehogResource(NetBoxModel):
    fabric = models.ForeignKey(HedgehogFabric, on_delete=models.CASCADE, related_name='gitops_resources')
    name = models.CharField(max_length=253)
    namespace = models.CharField(max_length=253, default='default')
    kind = models.CharField(max_length=50)
    api_version = models.CharField(max_length=100, default='unknown/v1')
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, null=True, blank=True)
    object_id = models.PositiveIntegerField(null=True, blank=True)
    content_object = GenericForeignKey('content_type', 'object_id')
    desired_spec = models.JSONField(null=True, blank=True)
    desired_commit = models.CharField(max_length=40, blank=True)
    desired_file_path = models.CharField(max_length=500, blank=True)
    desired_updated = models.DateTimeField(null=True, blank=True)
    draft_spec = models.JSONField(null=True, blank=True)
    draft_updated = models.DateTimeField(null=True, blank=True)
    draft_updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                         related_name='draft_resources')
    actual_spec = models.JSONField(null=True, blank=True)
    actual_status = models.JSONField(null=True, blank=True)
    actual_resource_version = models.CharField(max_length=50, blank=True)
    actual_updated = models.DateTimeField(null=True, blank=True)
    resource_state = models.CharField(max_length=20, choices=ResourceStateChoices, default='draft')
    # auto_now_add: set at creation, read-only through REST (the real model's, too).
    last_state_change = models.DateTimeField(auto_now_add=True)
    state_change_reason = models.TextField(blank=True)
    drift_status = models.CharField(max_length=20, choices=RESOURCE_DRIFT_CHOICES, default='in_sync')
    drift_details = models.JSONField(default=dict, blank=True)
    drift_score = models.FloatField(default=0.0)
    drift_severity = models.CharField(max_length=20, blank=True, choices=DRIFT_SEVERITY_CHOICES)
    last_reconciliation = models.DateTimeField(null=True, blank=True)
    reconciliation_attempts = models.PositiveIntegerField(default=0)
    dependent_resources = models.ManyToManyField('self', symmetrical=False, related_name='dependency_of', blank=True)
    dependency_score = models.FloatField(default=0.0)
    relationship_metadata = models.JSONField(default=dict, blank=True)
    last_synced_commit = models.CharField(max_length=40, blank=True)
    sync_attempts = models.PositiveIntegerField(default=0)
    last_sync_error = models.TextField(blank=True)
    labels = models.JSONField(default=dict, blank=True)
    annotations = models.JSONField(default=dict, blank=True)
    first_seen = models.DateTimeField(auto_now_add=True)
    last_drift_check = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name='created_resources')
    last_modified_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                         related_name='modified_resources')

    class Meta:
        verbose_name = 'Hedgehog Resource'
        verbose_name_plural = 'Hedgehog Resources'
        unique_together = [['fabric', 'namespace', 'name', 'kind']]
        ordering = ['fabric', 'namespace', 'kind', 'name']

    def __str__(self):
        return f'{self.kind}/{self.name} ({self.fabric.name})'

    def get_absolute_url(self):
        return f'/plugins/hedgehog/gitops/resources/{self.pk}/'

    def clean(self):
        super().clean()
        if not dns1123(self.name):
            raise ValidationError({'name': 'Name must be a valid Kubernetes resource name (DNS-1123 compliant)'})
        if not dns1123(self.namespace):
            raise ValidationError({'namespace': 'Namespace must be a valid Kubernetes namespace name'})
        if not self.kind.strip():
            raise ValidationError({'kind': 'Kind must be specified'})
        if self.drift_score < 0.0 or self.drift_score > 1.0:
            raise ValidationError({'drift_score': 'Drift score must be between 0.0 and 1.0'})

    # Read-only properties the real serializer adds.
    @property
    def has_drift(self):
        return self.drift_status != 'in_sync'

    @property
    def has_desired_state(self):
        return self.desired_spec is not None

    @property
    def has_actual_state(self):
        return self.actual_spec is not None

    @property
    def resource_identifier(self):
        return f'{self.namespace}/{self.kind}/{self.name}'

    @property
    def git_file_url(self):
        if self.desired_file_path and self.fabric.git_repository_url:
            return f"{self.fabric.git_repository_url.rstrip('.git')}/blob/{self.fabric.git_branch}/{self.desired_file_path}"
        return None

    def get_drift_summary(self):
        if not self.has_drift:
            return 'Resource is in sync'
        return {'spec_drift': 'Configuration differs', 'desired_only': 'Resource defined in Git but not deployed to cluster',
                'actual_only': 'Resource exists in cluster but not defined in Git',
                'creation_pending': 'Resource creation is pending',
                'deletion_pending': 'Resource deletion is pending'}.get(self.drift_status, self.drift_status)
