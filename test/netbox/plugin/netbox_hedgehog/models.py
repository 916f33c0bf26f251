from django.db import models

from netbox.models import NetBoxModel
from utilities.choices import ChoiceSet


class FabricStatusChoices(ChoiceSet):
    CHOICES = [('planned', 'Planned'), ('active', 'Active'), ('maintenance', 'Maintenance'),
               ('decommissioned', 'Decommissioned')]


class SyncStatusChoices(ChoiceSet):
    CHOICES = [('never_synced', 'Never synced'), ('in_sync', 'In sync'), ('out_of_sync', 'Out of sync'),
               ('syncing', 'Syncing'), ('error', 'Error')]


class GitOpsToolChoices(ChoiceSet):
    CHOICES = [('argocd', 'Argo CD'), ('flux', 'Flux'), ('manual', 'Manual')]


class KubernetesStatusChoices(ChoiceSet):
    CHOICES = [('unknown', 'Unknown'), ('pending', 'Pending'), ('applied', 'Applied'), ('live', 'Live'),
               ('error', 'Error'), ('deleting', 'Deleting')]


class GitRepository(NetBoxModel):
    name = models.CharField(max_length=100, unique=True)
    url = models.CharField(max_length=500)
    default_branch = models.CharField(max_length=100, default='main')

    class Meta:
        ordering = ('name',)
        verbose_name = 'Git repository'
        verbose_name_plural = 'Git repositories'

    def __str__(self):
        return self.name


class HedgehogFabric(NetBoxModel):
    name = models.CharField(max_length=100, unique=True)
    status = models.CharField(max_length=30, choices=FabricStatusChoices, default='active')
    # Git: the repository object is preferred, the three git_* fields are the legacy form.
    git_repository = models.ForeignKey(GitRepository, on_delete=models.SET_NULL, null=True, blank=True,
                                       related_name='fabrics')
    gitops_directory = models.CharField(max_length=500, default='/')
    git_repository_url = models.CharField(max_length=500, blank=True)
    git_branch = models.CharField(max_length=100, blank=True, default='main')
    git_path = models.CharField(max_length=500, blank=True)
    # Kubernetes
    kubernetes_server = models.CharField(max_length=500, blank=True)
    kubernetes_token = models.TextField(blank=True)
    kubernetes_ca_cert = models.TextField(blank=True)
    kubernetes_namespace = models.CharField(max_length=100, default='default')
    # GitOps tool
    gitops_tool = models.CharField(max_length=30, choices=GitOpsToolChoices, default='argocd')
    gitops_app_name = models.CharField(max_length=200, blank=True)
    gitops_namespace = models.CharField(max_length=100, default='argocd')
    argocd_server_url = models.CharField(max_length=500, blank=True)
    auto_sync_enabled = models.BooleanField(default=True)
    prune_enabled = models.BooleanField(default=False)
    self_heal_enabled = models.BooleanField(default=True)
    # Written back by the sidecar
    sync_status = models.CharField(max_length=30, choices=SyncStatusChoices, default='never_synced')
    last_git_sync = models.DateTimeField(null=True, blank=True)
    desired_state_commit = models.CharField(max_length=64, blank=True)
    drift_status = models.CharField(max_length=30, blank=True)
    drift_count = models.PositiveIntegerField(default=0)
    argocd_installed = models.BooleanField(default=False)
    argocd_health_status = models.CharField(max_length=30, blank=True)
    gitops_setup_status = models.CharField(max_length=30, blank=True)

    class Meta:
        ordering = ('name',)
        verbose_name = 'Hedgehog fabric'

    def __str__(self):
        return self.name


class HedgehogCR(NetBoxModel):
    """Common fields of the 12 Hedgehog custom-resource models."""
    fabric = models.ForeignKey(HedgehogFabric, on_delete=models.CASCADE, related_name='%(class)s_set')
    name = models.CharField(max_length=253)
    namespace = models.CharField(max_length=253, default='default')
    spec = models.JSONField(default=dict, blank=True)
    labels = models.JSONField(default=dict, blank=True)
    annotations = models.JSONField(default=dict, blank=True)
    kubernetes_status = models.CharField(max_length=30, choices=KubernetesStatusChoices, default='unknown')
    last_applied = models.DateTimeField(null=True, blank=True)
    last_synced = models.DateTimeField(null=True, blank=True)
    sync_error = models.TextField(blank=True)
    git_file_path = models.CharField(max_length=500, blank=True)
    auto_sync = models.BooleanField(default=True)

    class Meta:
        abstract = True
        ordering = ('fabric', 'namespace', 'name')
        constraints = [
            models.UniqueConstraint(fields=('fabric', 'namespace', 'name'), name='%(app_label)s_%(class)s_unique'),
        ]

    def __str__(self):
        return self.name


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
ALL_MODELS = ((HedgehogFabric, 'fabrics'), (GitRepository, 'git-repositories')) + CR_MODELS
