from netbox.plugins import PluginMenu, PluginMenuButton, PluginMenuItem

from .models import CR_MODELS, GitRepository, HedgehogFabric, HedgehogResource


def item(model):
    name = model._meta.model_name
    label = str(model._meta.verbose_name_plural)
    return PluginMenuItem(
        link=f'plugins:netbox_hedgehog:{name}_list',
        link_text=label[0].upper() + label[1:],
        permissions=[f'netbox_hedgehog.view_{name}'],
        buttons=(PluginMenuButton(f'plugins:netbox_hedgehog:{name}_add', 'Add', 'mdi mdi-plus-thick',
                                  permissions=[f'netbox_hedgehog.add_{name}']),),
    )


menu = PluginMenu(
    label='Hedgehog',
    groups=(
        ('Fabrics', (item(HedgehogFabric), item(GitRepository))),
        ('Resources', tuple(item(model) for model, _ in CR_MODELS)),
        ('GitOps', (item(HedgehogResource),)),
    ),
    icon_class='mdi mdi-hexagon-multiple',
)
