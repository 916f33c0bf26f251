// Package deploy holds no code: its tests check the deployment files next
// to it (Dockerfile, compose, kustomize, nginx, ingress) against the real
// binary, configuration and a real kube-apiserver.
package deploy
