from netbox.api.viewsets import NetBoxModelViewSet

from ..models import GitRepository, HedgehogResource
from . import serializers


def viewset_for(model):
    """A NetBoxModelViewSet for `model` (standard pagination; no filtersets, like the real plugin)."""
    return type(f'{model.__name__}ViewSet', (NetBoxModelViewSet,), {
        'queryset': model.objects.all(),
        'serializer_class': getattr(serializers, f'{model.__name__}Serializer'),
    })


class GitRepositoryViewSet(NetBoxModelViewSet):
    """git-repos-api/ (and the legacy git-repositories/): like the real plugin's viewset, a non-superuser sees only
    the repositories it created (others answer 404), create and update use plain DRF serializers, and the creator is
    recorded from the request."""
    queryset = GitRepository.objects.all()
    serializer_class = serializers.GitRepositorySerializer

    def get_serializer_class(self):
        if self.action == 'create':
            return serializers.GitRepositoryCreateSerializer
        if self.action in ('update', 'partial_update'):
            return serializers.GitRepositoryUpdateSerializer
        return self.serializer_class

    def get_queryset(self):
        queryset = super().get_queryset()
        if not self.request.user.is_superuser:
            queryset = queryset.filter(created_by=self.request.user)
        return queryset

    def perform_create(self, serializer):
        # Like the real viewset: saved directly (NetBox's object-permission re-check is skipped).
        instance = serializer.save(created_by=self.request.user)
        instance.fabric_count = instance.dependent_fabrics().count()
        instance.save(update_fields=['fabric_count'])

    def perform_update(self, serializer):
        instance = serializer.save()
        instance.fabric_count = instance.dependent_fabrics().count()
        instance.save(update_fields=['fabric_count'])


class HedgehogResourceViewSet(NetBoxModelViewSet):
    """gitops-resources/: the real viewset's queryset, serializer and filterset_fields (DjangoFilterBackend builds
    exact filters ?fabric=<id>&kind=&namespace=&drift_status=; an unknown fabric id is a 400)."""
    queryset = HedgehogResource.objects.all()
    serializer_class = serializers.HedgehogResourceSerializer
    filterset_fields = ['fabric', 'kind', 'namespace', 'drift_status']
