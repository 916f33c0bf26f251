"""Models of the stand-in. Field names, types, defaults, blank/null, choices and uniqueness follow the real
plugin's July-2025 models (see ../README.md for the file and commit each one mirrors); behaviour is ours."""
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from netbox.models import NetBoxModel
from utilities.choices import ChoiceSet


class FabricStatusChoices(ChoiceSet):
    CHOICES = [('planned', 'Planned'), ('active', 'Active'), ('maintenance', 'Maintenance'),
               ('decommissioned', 'Decommissioned')]


class ConnectionStatusChoices(ChoiceSet):
    CHOICES = [('unknown', 'Unknown'), ('connected', 'Connected'), ('disconnected', 'Disconnected'),
               ('error', 'Error')]


class SyncStatusChoices(ChoiceSet):
    # The model's list. The database CHECK valid_sync_status (migration 0003) allows a different set:
    # synced|syncing|error|never_synced, so only never_synced|syncing|error can be stored through REST.
    CHOICES = [('never_synced', 'Never Synced'), ('in_sync', 'In Sync'), ('out_of_sync', 'Out of Sync'),
               ('syncing', 'Syncing'), ('error', 'Sync Error')]


class DriftStatusChoices(ChoiceSet):
    CHOICES = [('in_sync', 'In Sync'), ('drift_detected', 'Drift Detected'), ('git_ahead', 'Git Ahead'),
               ('cluster_ahead', 'Cluster Ahead'), ('conflicts', 'Conflicts')]


class GitOpsToolChoices(ChoiceSet):
    CHOICES = [('manual', 'Manual'), ('argocd', 'ArgoCD'), ('flux', 'Flux'), ('tekton', 'Tekton'),
               ('jenkins', 'Jenkins'), ('none', 'None')]


class ArgoCDHealthChoices(ChoiceSet):
    CHOICES = [('unknown', 'Unknown'), ('healthy', 'Healthy'), ('unhealthy', 'Unhealthy'), ('degraded', 'Degraded'),
               ('installing', 'Installing'), ('failed', 'Failed')]


class GitOpsSetupStatusChoices(ChoiceSet):
    CHOICES = [('not_configured', 'Not Configured'), ('manual', 'Manual'), ('installing', 'Installing'),
               ('configured', 'Configured'), ('ready', 'Ready'), ('error', 'Error')]


class WatchStatusChoices(ChoiceSet):
    CHOICES = [('inactive', 'Inactive'), ('starting', 'Starting'), ('active', 'Active'), ('error', 'Error'),
               ('stopped', 'Stopped')]


class ArchiveStrategyChoices(ChoiceSet):
    CHOICES = [('rename_with_extension', 'Rename with .archived extension'),
               ('move_to_archive_dir', 'Move to archive directory'),
               ('backup_with_timestamp', 'Backup with timestamp'), ('none', 'No archiving')]


class KubernetesStatusChoices(ChoiceSet):
    CHOICES = [('unknown', 'Unknown'), ('pending', 'Pending'), ('applied', 'Applied'), ('live', 'Live'),
               ('error', 'Error'), ('deleting', 'Deleting')]


class GitProviderChoices(ChoiceSet):
    CHOICES = [('github', 'GitHub'), ('gitlab', 'GitLab'), ('bitbucket', 'Bitbucket'), ('azure', 'Azure DevOps'),
               ('generic', 'Generic Git')]


class GitAuthTypeChoices(ChoiceSet):
    CHOICES = [('token', 'Personal Access Token'), ('ssh_key', 'SSH Key'), ('oauth', 'OAuth Token'),
               ('basic', 'Username/Password')]


class GitConnectionStatusChoices(ChoiceSet):
    CHOICES = [('pending', 'Pending Validation'), ('testing', 'Testing Connection'), ('connected', 'Connected'),
               ('failed', 'Connection Failed')]


class GitRepository(NetBoxModel):
    name = models.CharField(max_length=200)
    url = models.URLField(max_length=500)
    provider = models.CharField(max_length=20, choices=GitProviderChoices, default='generic')
    authentication_type = models.CharField(max_length=20, choices=GitAuthTypeChoices, default='token')
    # The stand-in keeps no secret: a non-empty marker says credentials were given (see api/serializers.py).
    encrypted_credentials = models.TextField(blank=True)
    connection_status = models.CharField(max_length=20, choices=GitConnectionStatusChoices, default='pending')
    last_validated = models.DateTimeField(null=True, blank=True)
    validation_error = models.TextField(blank=True)
    default_branch = models.CharField(max_length=100, default='main')
    is_private = models.BooleanField(default=False)
    fabric_count = models.PositiveIntegerField(default=0)
    # Who added it: a non-superuser sees (REST) only the repositories it created.
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name='+')
    description = models.TextField(blank=True)
    validate_ssl = models.BooleanField(default=True)
    timeout_seconds = models.PositiveIntegerField(default=30)
    direct_push_enabled = models.BooleanField(default=True)
    push_branch = models.CharField(max_length=100, blank=True)
    commit_author_name = models.CharField(max_length=100, default='HNP Bidirectional Sync')
    commit_author_email = models.EmailField(default='hnp-sync@hedgehog.gitops')

    class Meta:
        ordering = ('name',)
        verbose_name = 'Git Repository'
        verbose_name_plural = 'Git Repositories'
        constraints = [models.UniqueConstraint(fields=('url', 'name'), name='unique_git_repository_url_name')]

    def __str__(self):
        return f'{self.name} ({self.url})'

    def dependent_fabrics(self):
        return HedgehogFabric.objects.filter(git_repository=self)

    def connection_summary(self):
        count = self.dependent_fabrics().count()
        return {
            'status': self.connection_status,
            'last_validated': self.last_validated,
            'validation_error': self.validation_error,
            'is_connected': self.connection_status == 'connected',
            'needs_validation': self.connection_status == 'pending',
            'fabric_usage': {'count': count, 'can_delete': count == 0},
        }

    def repository_info(self):
        """Where the real GET serializer carries the Git URL (its `url` key is NetBox's API link)."""
        return {
            'basic_info': {'id': self.pk, 'name': self.name, 'url': self.url, 'provider': self.provider,
                           'description': self.description},
            'authentication': {'type': self.authentication_type, 'has_credentials': bool(self.encrypted_credentials),
                               'is_private': self.is_private},
            'connection': self.connection_summary(),
            'repository_settings': {'default_branch': self.default_branch, 'validate_ssl': self.validate_ssl,
                                    'timeout_seconds': self.timeout_seconds},
            'usage': {'fabric_count': self.fabric_count,
                      'created_by': self.created_by.username if self.created_by else None,
                      'created': self.created, 'last_updated': self.last_updated},
        }


class HedgehogFabric(NetBoxModel):
    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=FabricStatusChoices, default='planned')
    connection_status = models.CharField(max_length=20, choices=ConnectionStatusChoices, default='unknown')
    sync_status = models.CharField(max_length=20, choices=SyncStatusChoices, default='never_synced')
    # Kubernetes
    kubernetes_server = models.URLField(blank=True)
    kubernetes_token = models.TextField(blank=True)
    kubernetes_ca_cert = models.TextField(blank=True)
    kubernetes_namespace = models.CharField(max_length=253, default='default')
    sync_enabled = models.BooleanField(default=True)
    sync_interval = models.PositiveIntegerField(default=300)
    last_sync = models.DateTimeField(null=True, blank=True)
    sync_error = models.TextField(blank=True)
    connection_error = models.TextField(blank=True)
    # Git: the repository object is preferred; git_repository_url/git_branch/git_path are the legacy form.
    git_repository = models.ForeignKey(GitRepository, on_delete=models.SET_NULL, null=True, blank=True)
    gitops_directory = models.CharField(max_length=500, default='/')
    git_repository_url = models.URLField(blank=True, null=True)
    git_branch = models.CharField(max_length=100, default='main')
    git_path = models.CharField(max_length=255, default='hedgehog/')
    git_username = models.CharField(max_length=100, blank=True)
    git_token = models.CharField(max_length=255, blank=True)
    # GitOps state (written back by the sidecar)
    desired_state_commit = models.CharField(max_length=40, blank=True)
    drift_status = models.CharField(max_length=20, choices=DriftStatusChoices, default='in_sync')
    drift_count = models.PositiveIntegerField(default=0)
    last_git_sync = models.DateTimeField(null=True, blank=True)
    # GitOps tool
    gitops_tool = models.CharField(max_length=20, choices=GitOpsToolChoices, default='manual')
    gitops_app_name = models.CharField(max_length=255, blank=True)
    gitops_namespace = models.CharField(max_length=255, blank=True)
    # Cached counts
    cached_crd_count = models.PositiveIntegerField(default=0)
    cached_vpc_count = models.PositiveIntegerField(default=0)
    cached_connection_count = models.PositiveIntegerField(default=0)
    connections_count = models.PositiveIntegerField(default=0)
    servers_count = models.PositiveIntegerField(default=0)
    switches_count = models.PositiveIntegerField(default=0)
    vpcs_count = models.PositiveIntegerField(default=0)
    # Argo CD
    argocd_installed = models.BooleanField(default=False)
    argocd_version = models.CharField(max_length=50, blank=True)
    argocd_server_url = models.URLField(blank=True)
    argocd_health_status = models.CharField(max_length=20, choices=ArgoCDHealthChoices, default='unknown')
    argocd_installation_date = models.DateTimeField(null=True, blank=True)
    argocd_admin_password = models.CharField(max_length=255, blank=True)
    gitops_setup_status = models.CharField(max_length=30, choices=GitOpsSetupStatusChoices, default='not_configured')
    gitops_setup_error = models.TextField(blank=True)
    auto_sync_enabled = models.BooleanField(default=True)
    prune_enabled = models.BooleanField(default=False)
    self_heal_enabled = models.BooleanField(default=True)
    # Real-time monitoring. watch_crd_types has no blank=True: its default [] fails full_clean() with
    # "This field cannot be blank.", so every REST write of a fabric whose list is empty answers 400.
    watch_enabled = models.BooleanField(default=True)
    watch_crd_types = models.JSONField(default=list)
    watch_status = models.CharField(max_length=20, choices=WatchStatusChoices, default='inactive')
    watch_started_at = models.DateTimeField(null=True, blank=True)
    watch_last_event = models.DateTimeField(null=True, blank=True)
    watch_event_count = models.PositiveIntegerField(default=0)
    watch_error_message = models.TextField(blank=True)
    # GitOps file management
    gitops_initialized = models.BooleanField(default=False)
    archive_strategy = models.CharField(max_length=30, choices=ArchiveStrategyChoices, default='rename_with_extension')
    raw_directory_path = models.CharField(max_length=500, blank=True)
    managed_directory_path = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ('name',)
        verbose_name = 'Hedgehog Fabric'
        verbose_name_plural = 'Hedgehog Fabrics'
        unique_together = (('git_repository', 'gitops_directory'),)

    def __str__(self):
        return self.name


DNS1123 = re.compile(r'^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')


def dns1123(value):
    return bool(DNS1123.match(value or '')) and len(value) <= 253


class HedgehogCR(NetBoxModel):
    """Common fields of the 12 Hedgehog custom-resource models."""
    fabric = models.ForeignKey(HedgehogFabric, on_delete=models.CASCADE, related_name='%(class)s_set')
    name = models.CharField(max_length=253)
    namespace = models.CharField(max_length=253, default='default')
    spec = models.JSONField()  # no default, not blank: required, and {} is "This field cannot be blank."
    raw_spec = models.JSONField(default=dict, blank=True)
    labels = models.JSONField(default=dict, blank=True)
    annotations = models.JSONField(default=dict, blank=True)
    kubernetes_status = models.CharField(max_length=20, choices=KubernetesStatusChoices, default='unknown')
    kubernetes_uid = models.CharField(max_length=36, blank=True)
    kubernetes_resource_version = models.CharField(max_length=50, blank=True)
    last_applied = models.DateTimeField(null=True, blank=True)
    last_synced = models.DateTimeField(null=True, blank=True)
    sync_error = models.TextField(blank=True)
    git_file_path = models.CharField(max_length=500, blank=True)
    auto_sync = models.BooleanField(default=True)

    class Meta:
        abstract = True
        ordering = ('fabric', 'namespace', 'name')
        unique_together = (('fabric', 'namespace', 'name'),)

    def __str__(self):
        return f'{self.name} ({self.fabric.name})'

    def clean(self):
        super().clean()
        if not dns1123(self.name):
            raise ValidationError({'name': 'Name must be a valid Kubernetes resource name (DNS-1123 compliant)'})
        if not dns1123(self.namespace):
            raise ValidationError({'namespace': 'Namespace must be a valid Kubernetes namespace name'})


# Class names give the model names (object types) netbox_hedgehog.<lowercase class name>.
class VPC(HedgehogCR):
    class Meta(HedgehogCR.Meta):
        verbose_name = 'VPC'


class External(HedgehogCR):
    class Meta(HedgehogCR.Meta):
        verbose_name = 'External'


class ExternalAttachment(HedgehogCR):
    class Meta(HedgehogCR.Meta):
        verbose_name = 'External attachment'


class ExternalPeering(HedgehogCR):
    class Meta(HedgehogCR.Meta):
        verbose_name = 'External peering'


class IPv4Namespace(HedgehogCR):
    class Meta(HedgehogCR.Meta):
        verbose_name = 'IPv4 namespace'


class VPCAttachment(HedgehogCR):
    class Meta(HedgehogCR.Meta):
        verbose_name = 'VPC attachment'


class VPCPeering(HedgehogCR):
    class Meta(HedgehogCR.Meta):
        verbose_name = 'VPC peering'


class Connection(HedgehogCR):
    class Meta(HedgehogCR.Meta):
        verbose_name = 'Connection'


class Server(HedgehogCR):
    class Meta(HedgehogCR.Meta):
        verbose_name = 'Server'


class Switch(HedgehogCR):
    class Meta(HedgehogCR.Meta):
        verbose_name = 'Switch'
        verbose_name_plural = 'Switches'


class SwitchGroup(HedgehogCR):
    class Meta(HedgehogCR.Meta):
        verbose_name = 'Switch group'


class VLANNamespace(HedgehogCR):
    class Meta(HedgehogCR.Meta):
        verbose_name = 'VLAN namespace'


# Order used for API routes, UI URLs and the menu: (model, URL path segment).
CR_MODELS = (
    (VPC, 'vpcs'), (External, 'externals'), (ExternalAttachment, 'external-attachments'),
    (ExternalPeering, 'external-peerings'), (IPv4Namespace, 'ipv4-namespaces'), (VPCAttachment, 'vpc-attachments'),
    (VPCPeering, 'vpc-peerings'), (Connection, 'connections'), (Server, 'servers'), (Switch, 'switches'),
    (SwitchGroup, 'switch-groups'), (VLANNamespace, 'vlan-namespaces'),
)
# UI paths (the API paths are in api/urls.py: git repositories are git-repos-api/ there).
ALL_MODELS = ((HedgehogFabric, 'fabrics'), (GitRepository, 'git-repositories')) + CR_MODELS

# HedgehogResource (the plugin's per-object GitOps state) lives in gitops.py, as in the real plugin's models/.
from .gitops import HedgehogResource  # noqa: E402,F401

ALL_MODELS += ((HedgehogResource, 'gitops/resources'),)
