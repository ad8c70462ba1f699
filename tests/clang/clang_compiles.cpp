// Compiled with clang++ -fsyntax-only by the clang_compiles test: ink's headers must build with
// clang as well as GCC (the kernels' SIMD operations differ between the two; see
// kernels/vector_types.hpp). Every kernel family is instantiated for float and double.
#include <ink/ink.hpp>
#include <ink/io.hpp>

template <class T>
ink::Tensor<T> every_kernel() {
  using namespace ink;
  Tensor<T> x = randn<T>({2, 3, 9, 9});
  Tensor<T> w = randn<T>({4, 3, 3, 3});
  x.requires_grad_();
  w.requires_grad_();
  Tensor<T> y = conv2d(x, w, Tensor<T>(), Conv2dOptions{.padding = 1});
  y = batch_norm(y, Tensor<T>(), Tensor<T>(), Tensor<T>(), Tensor<T>(), BatchNormOptions{.training = true});
  y = max_pool2d(relu(y), 2) + avg_pool2d(y, 2);
  y = conv_transpose2d(y, randn<T>({4, 2, 4, 4}), Tensor<T>(), ConvTranspose2dOptions{.stride = 2, .padding = 1});
  Tensor<T> z = linear(y.flatten(1), randn<T>({5, y.flatten(1).size(1)}), Tensor<T>());
  Tensor<T> loss = cross_entropy(z, randint(0, 5, {2}));
  loss.backward();
  optim::Adam<T> adam({x, w}, {});
  adam.step();
  return matmul(randn<T>({8, 8}), randn<T>({8, 8}));
}

int main() {
  const auto a = every_kernel<float>();
  const auto b = every_kernel<double>();
  return ink::io::encode_png(ink::full<float>({1, 2, 2}, 0.5f)).empty() + static_cast<int>(a.numel() + b.numel() == 0);
}
