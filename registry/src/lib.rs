//! Where guest artifacts live (OCI registries, OCI image layouts, https downloads) and the verified pull.
