# Cluster add-ons, installed once the managed node group exists (their pods run there).

resource "helm_release" "karpenter" {
  name             = "karpenter"
  namespace        = "kube-system"
  repository       = "oci://public.ecr.aws/karpenter"
  chart            = "karpenter"
  version          = var.karpenter_version
  create_namespace = false
  wait             = true
  values = [yamlencode({
    settings = {
      clusterName       = module.platform.cluster_name
      interruptionQueue = module.platform.karpenter_interruption_queue
    }
    serviceAccount = { name = "karpenter" }
    controller = {
      resources = {
        requests = { cpu = "250m", memory = "512Mi" }
        limits   = { cpu = "1", memory = "1Gi" }
      }
    }
    # Never on a node it manages itself: on the managed node group.
    nodeSelector = { "hearus.io/role" = "system" }
  })]
  depends_on = [module.platform]
}

resource "helm_release" "load_balancer_controller" {
  name       = "aws-load-balancer-controller"
  namespace  = "kube-system"
  repository = "https://aws.github.io/eks-charts"
  chart      = "aws-load-balancer-controller"
  version    = var.load_balancer_controller_version
  wait       = true
  values = [yamlencode({
    clusterName    = module.platform.cluster_name
    region         = var.region
    vpcId          = module.platform.vpc_id
    serviceAccount = { name = "aws-load-balancer-controller" }
    nodeSelector   = { "hearus.io/role" = "system" }
  })]
  depends_on = [module.platform]
}

locals {
  # The one ALB of the deployment is shared by the application's Ingress and Grafana's
  # (IngressGroup "hearus"): the same listeners, certificate and redirect.
  alb_annotations = {
    "alb.ingress.kubernetes.io/group.name"               = "hearus"
    "alb.ingress.kubernetes.io/group.order"              = "1"
    "alb.ingress.kubernetes.io/scheme"                   = "internet-facing"
    "alb.ingress.kubernetes.io/target-type"              = "ip"
    "alb.ingress.kubernetes.io/listen-ports"             = "[{\"HTTP\": 80}, {\"HTTPS\": 443}]"
    "alb.ingress.kubernetes.io/ssl-redirect"             = "443"
    "alb.ingress.kubernetes.io/certificate-arn"          = module.platform.certificate_arn
    "alb.ingress.kubernetes.io/ssl-policy"               = "ELBSecurityPolicy-TLS13-1-2-2021-06"
    "alb.ingress.kubernetes.io/load-balancer-attributes" = "idle_timeout.timeout_seconds=120,routing.http.drop_invalid_header_fields.enabled=true"
    "alb.ingress.kubernetes.io/healthcheck-path"         = "/grafana/api/health"
  }
}

# External Secrets: copies the deployment's secrets from Secrets Manager into Kubernetes Secrets
# (the app's hearus-secrets: infra/k8s/overlays/prod/external-secrets.yaml; Grafana's admin
# password: charts/cluster-secrets). Its role: modules/platform/secrets.tf.
resource "helm_release" "external_secrets" {
  name       = "external-secrets"
  namespace  = "kube-system"
  repository = "https://charts.external-secrets.io"
  chart      = "external-secrets"
  version    = var.external_secrets_version
  wait       = true
  values = [yamlencode({
    installCRDs    = true
    serviceAccount = { name = "external-secrets" }
    nodeSelector   = { "hearus.io/role" = "system" }
    webhook        = { nodeSelector = { "hearus.io/role" = "system" } }
    certController = { nodeSelector = { "hearus.io/role" = "system" } }
  })]
  depends_on = [module.platform]
}

resource "helm_release" "cluster_secrets" {
  name             = "cluster-secrets"
  namespace        = "monitoring"
  create_namespace = true
  chart            = "${path.module}/charts/cluster-secrets"
  values = [yamlencode({
    region            = var.region
    grafanaSecretName = module.platform.grafana_secret_name
  })]
  depends_on = [helm_release.external_secrets]
}

resource "helm_release" "kube_prometheus_stack" {
  name             = "kube-prometheus-stack"
  namespace        = "monitoring"
  create_namespace = true
  repository       = "https://prometheus-community.github.io/helm-charts"
  chart            = "kube-prometheus-stack"
  version          = var.kube_prometheus_stack_version
  wait             = true
  timeout          = 900
  values = [yamlencode({
    prometheus = {
      prometheusSpec = {
        # Pick up every ServiceMonitor (ours is in namespace hearus), not only the chart's own.
        serviceMonitorSelectorNilUsesHelmValues = false
        serviceMonitorSelector                  = {}
        serviceMonitorNamespaceSelector         = {}
        podMonitorSelectorNilUsesHelmValues     = false
        ruleSelectorNilUsesHelmValues           = false
        ruleSelector                            = {}
        ruleNamespaceSelector                   = {}
        retention                               = "15d"
        nodeSelector                            = { "hearus.io/role" = "system" }
        resources = {
          requests = { cpu = "200m", memory = "1Gi" }
          limits   = { memory = "2Gi" }
        }
        storageSpec = {
          volumeClaimTemplate = {
            spec = {
              storageClassName = kubernetes_storage_class_v1.monitoring.metadata[0].name
              accessModes      = ["ReadWriteOnce"]
              resources        = { requests = { storage = "30Gi" } }
            }
          }
        }
      }
    }
    # Alerting rules: infra/k8s/base/alerts.yaml (PrometheusRule). Where alerts go is set in
    # Alertmanager's configuration (docs/deploy.md step 12); until then they show in its UI.
    alertmanager = {
      enabled = true
      alertmanagerSpec = {
        nodeSelector = { "hearus.io/role" = "system" }
        resources    = { requests = { cpu = "50m", memory = "128Mi" }, limits = { memory = "256Mi" } }
      }
    }
    grafana = {
      # The password lives in Secrets Manager only; External Secrets makes this Secret.
      admin        = { existingSecret = "grafana-admin", userKey = "admin-user", passwordKey = "admin-password" }
      nodeSelector = { "hearus.io/role" = "system" }
      "grafana.ini" = {
        server = {
          root_url            = "%(protocol)s://%(domain)s/grafana/"
          serve_from_sub_path = true
        }
      }
      # Dashboards from every namespace's ConfigMaps labelled grafana_dashboard (ours:
      # infra/k8s/base/dashboards/hearus.json).
      sidecar = {
        dashboards = {
          enabled         = true
          label           = "grafana_dashboard"
          labelValue      = "1"
          searchNamespace = "ALL"
        }
      }
      ingress = {
        enabled          = true
        ingressClassName = "alb"
        annotations      = local.alb_annotations
        hosts            = []
        path             = "/grafana"
        pathType         = "Prefix"
      }
    }
  })]
  depends_on = [helm_release.load_balancer_controller, helm_release.cluster_secrets]
}

# The Prometheus Adapter: the custom metric the live HorizontalPodAutoscaler scales on,
# hearus_live_lectures per pod (the gauge each Daphne process exports, hearus_site/metrics.py).
# Resource metrics stay with metrics-server (an EKS add-on), so only custom.metrics.k8s.io is
# served here.
resource "helm_release" "prometheus_adapter" {
  name       = "prometheus-adapter"
  namespace  = "monitoring"
  repository = "https://prometheus-community.github.io/helm-charts"
  chart      = "prometheus-adapter"
  version    = var.prometheus_adapter_version
  wait       = true
  values = [yamlencode({
    prometheus   = { url = "http://kube-prometheus-stack-prometheus.monitoring.svc", port = 9090 }
    nodeSelector = { "hearus.io/role" = "system" }
    rules = {
      default  = false
      resource = null
      custom = [{
        seriesQuery = "hearus_live_lectures{namespace!=\"\",pod!=\"\"}"
        resources = {
          overrides = {
            namespace = { resource = "namespace" }
            pod       = { resource = "pod" }
          }
        }
        name         = { matches = "^hearus_live_lectures$", as = "hearus_live_lectures" }
        metricsQuery = "max(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)"
      }]
    }
  })]
  depends_on = [helm_release.kube_prometheus_stack]
}

# GPU live nodes (gpu_live; infra/k8s/overlays/prod-gpu): the device plugin that makes
# nvidia.com/gpu schedulable. Karpenter's AL2023 NVIDIA AMI brings the driver. Untested without
# an AWS account.
resource "helm_release" "nvidia_device_plugin" {
  count      = var.gpu_live ? 1 : 0
  name       = "nvidia-device-plugin"
  namespace  = "kube-system"
  repository = "https://nvidia.github.io/k8s-device-plugin"
  chart      = "nvidia-device-plugin"
  version    = var.nvidia_device_plugin_version
  values = [yamlencode({
    nodeSelector = { "karpenter.k8s.aws/instance-gpu-manufacturer" = "nvidia" }
    tolerations = [
      { key = "hearus.io/role", operator = "Equal", value = "live", effect = "NoSchedule" },
      { key = "nvidia.com/gpu", operator = "Exists", effect = "NoSchedule" },
    ]
  })]
  depends_on = [module.platform]
}

# Prometheus' volume (the application's classes come with its manifests, infra/k8s).
resource "kubernetes_storage_class_v1" "monitoring" {
  metadata {
    name = "monitoring-gp3"
  }
  storage_provisioner    = "ebs.csi.aws.com"
  reclaim_policy         = "Retain"
  volume_binding_mode    = "WaitForFirstConsumer"
  allow_volume_expansion = true
  parameters = {
    type      = "gp3"
    encrypted = "true"
  }
  depends_on = [module.platform]
}

# The load balancer's host name, once the controller has created the ALB for Grafana's Ingress
# (a minute after the first apply: `terraform apply -refresh-only` fills it in).
data "kubernetes_ingress_v1" "grafana" {
  metadata {
    name      = "kube-prometheus-stack-grafana"
    namespace = "monitoring"
  }
  depends_on = [helm_release.kube_prometheus_stack]
}
