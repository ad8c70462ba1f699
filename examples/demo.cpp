// The main demo: tensors, broadcasting and autograd, printed so that a person can check each
// result by hand.
#include <cstdio>
#include <iostream>

#include <ink/ink.hpp>

using namespace ink;

int main() {
  std::printf("ink %d.%d.%d: kernels use %s, %d threads\n\n", INK_VERSION_MAJOR, INK_VERSION_MINOR, INK_VERSION_PATCH,
              isa_name(active_isa()), get_num_threads());

  // 1. Broadcasting: a column plus a row is a table.
  Tensor<float> col = arange<float>(3.f).reshape({3, 1}) * 10.f;
  Tensor<float> row = arange<float>(4.f);
  std::cout << "1. a [3,1] column (0, 10, 20) plus a [4] row (0..3) broadcasts to a [3,4] table:\n"
            << col + row << "\n\n";

  // 2. Derivatives of y = x^3 at x = 2: dy/dx = 3x^2 = 12, d2y/dx2 = 6x = 12, d3y/dx3 = 6.
  Tensor<double> x = scalar_tensor(2.0).requires_grad_();
  Tensor<double> y = x.pow(3.0);
  auto d1 = autograd::grad<double>({y}, {x}, {}, /*create_graph=*/true);
  auto d2 = autograd::grad<double>({d1[0]}, {x}, {}, true);
  auto d3 = autograd::grad<double>({d2[0]}, {x});
  std::printf("2. y = x^3 at x = 2: y = %g, dy/dx = %g (expect 12), d2y/dx2 = %g (expect 12), d3y/dx3 = %g (expect 6)\n\n",
              y.item(), d1[0].item(), d2[0].item(), d3[0].item());

  // 3. Fit y = 3x - 2 from 64 noisy samples by gradient descent on the mean squared error.
  Generator gen(42);
  Tensor<float> xs = rand<float>({64, 1}, gen) * 4.f - 2.f;
  Tensor<float> ys = xs * 3.f - 2.f + randn<float>({64, 1}, gen) * 0.1f;
  Tensor<float> w = zeros<float>({1, 1}).requires_grad_();
  Tensor<float> b = zeros<float>({1}).requires_grad_();
  std::printf("3. fitting y = 3x - 2 (noise sd 0.1) by gradient descent, lr 0.1:\n");
  for (int step = 0; step <= 100; ++step) {
    Tensor<float> err = xs.matmul(w) + b - ys;
    Tensor<float> loss = (err * err).mean();
    w.zero_grad();
    b.zero_grad();
    loss.backward();
    {
      NoGradGuard no_grad;
      w.add_(w.grad(), -0.1f);
      b.add_(b.grad(), -0.1f);
    }
    if (step % 25 == 0)
      std::printf("   step %3d  loss %.5f  w %.4f  b %.4f\n", step, loss.item(), w.item(), b.item());
  }
  std::printf("   learned w = %.3f (true 3), b = %.3f (true -2)\n", w.item(), b.item());
  return 0;
}
