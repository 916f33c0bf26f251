from rest_framework.response import Response
from rest_framework.viewsets import ViewSet

from netbox.api.authentication import IsAuthenticatedOrLoginNotRequired
from netbox.api.viewsets import NetBoxModelViewSet

from . import serializers


def viewset_for(model):
    """A NetBoxModelViewSet for `model` (standard pagination; no filtersets, like the real plugin)."""
    return type(f'{model.__name__}ViewSet', (NetBoxModelViewSet,), {
        'queryset': model.objects.all(),
        'serializer_class': getattr(serializers, f'{model.__name__}Serializer'),
    })


class GitOpsResourceViewSet(ViewSet):
    """Placeholder for the real plugin's gitops-resources/ endpoint: always an empty list."""
    permission_classes = [IsAuthenticatedOrLoginNotRequired]

    def list(self, request):
        return Response({'count': 0, 'next': None, 'previous': None, 'results': []})
