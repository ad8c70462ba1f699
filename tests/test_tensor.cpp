// Tensor<T>: creation, views sharing storage, broadcasting, reductions, matmul, cat/stack,
// in-place updates, printing, Eigen interop and the errors bad shapes raise.
#include <catch2/catch.hpp>

#include <ink/eigen.hpp>
#include <ink/ink.hpp>
#include <cstring>
#include <sstream>
#include <tuple>

using namespace ink;
using Catch::Matchers::Contains;

namespace {
template <class T>
std::vector<T> values(const Tensor<T>& t) {
  return t.to_vector();
}
// Runs f, which must throw E, and returns the message.
template <class E, class F>
std::string error_of(F f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  FAIL("expected an exception");
  return {};
}
}  // namespace

TEST_CASE("creation functions") {
  CHECK(values(zeros<float>({2, 2})) == std::vector<float>{0, 0, 0, 0});
  CHECK(values(full<double>({3}, 2.5)) == std::vector<double>{2.5, 2.5, 2.5});
  CHECK(values(arange<float>(0.f, 1.f, 0.25f)) == std::vector<float>{0, 0.25f, 0.5f, 0.75f});
  CHECK(values(arange<std::int64_t>(5)) == std::vector<std::int64_t>{0, 1, 2, 3, 4});
  const auto l = values(linspace<double>(-1.0, 1.0, 5));
  CHECK(l == std::vector<double>{-1, -0.5, 0, 0.5, 1});
  CHECK(linspace<float>(0.f, 1.f, 7).to_vector().back() == 1.0f);
  CHECK(from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3}).at({1, 2}) == 6);
  CHECK_THROWS_AS(from_vector<float>({1, 2, 3}, {2, 2}), ShapeError);
  CHECK_THROWS_AS(zeros<float>({2, -1}), ValueError);
  CHECK_THROWS_AS(arange<float>(0.f, 1.f, 0.f), ValueError);

  Generator g1(3), g2(3);
  CHECK(values(randn<float>({4, 5}, g1)) == values(randn<float>({4, 5}, g2)));
  manual_seed(11);
  const auto a = values(rand<double>({10}));
  manual_seed(11);
  CHECK(values(rand<double>({10})) == a);
  for (double v : a) CHECK((v >= 0 && v < 1));
  const auto r = values(randint(-2, 3, {1000}));
  CHECK(*std::min_element(r.begin(), r.end()) == -2);
  CHECK(*std::max_element(r.begin(), r.end()) == 2);
  CHECK(reinterpret_cast<std::uintptr_t>(zeros<float>({3}).data_ptr()) % 64 == 0);
}

TEST_CASE("views share storage with their base") {
  Tensor<float> base = arange<float>(24.f).reshape({2, 3, 4});
  NoGradGuard ng;
  SECTION("transpose") {
    Tensor<float> t = base.transpose(0, 2);
    CHECK(t.shape() == Shape{4, 3, 2});
    CHECK(!t.is_contiguous());
    t.at({1, 2, 0}) = -1;
    CHECK(base.at({0, 2, 1}) == -1);
  }
  SECTION("slice with step and narrow") {
    Tensor<float> s = base.slice(2, 1, std::nullopt, 2);  // columns 1 and 3
    CHECK(s.shape() == Shape{2, 3, 2});
    CHECK(values(s.select(0, 0).select(0, 0)) == std::vector<float>{1, 3});
    s.fill_(7);
    CHECK(base.at({1, 2, 3}) == 7);
    CHECK(base.at({1, 2, 2}) == 22);
    Tensor<float> n = base.narrow(1, -2, 2);
    CHECK(n.shape() == Shape{2, 2, 4});
    CHECK(n.at({0, 0, 0}) == 4);
  }
  SECTION("reshape of a contiguous tensor is a view; of a transposed one a copy") {
    Tensor<float> r = base.reshape({6, -1});
    CHECK(r.shape() == Shape{6, 4});
    CHECK(r.storage() == base.storage());
    Tensor<float> c = base.transpose(1, 2).reshape({-1});
    CHECK(c.storage() != base.storage());
    CHECK(c.at({1}) == 4);
    CHECK_THROWS_WITH(base.transpose(1, 2).view({-1}), Contains("view") && Contains("reshape"));
    // a view splitting and merging contiguous runs of a non-contiguous tensor
    Tensor<float> p = base.permute({1, 0, 2});  // [3,2,4]: dims 0/1 swapped, last dim intact
    Tensor<float> v = p.view({3, 2, 2, 2});
    CHECK(v.storage() == base.storage());
    CHECK(v.at({2, 1, 1, 0}) == base.at({1, 2, 2}));
  }
  SECTION("squeeze, unsqueeze, expand") {
    Tensor<float> u = base.unsqueeze(1);
    CHECK(u.shape() == Shape{2, 1, 3, 4});
    CHECK(u.squeeze(1).shape() == base.shape());
    CHECK(u.squeeze().shape() == base.shape());
    CHECK(base.squeeze(0).shape() == base.shape());  // size 2: unchanged, as in PyTorch
    Tensor<float> row = arange<float>(4.f).reshape({1, 4});
    Tensor<float> e = row.expand({3, -1});
    CHECK(e.strides()[0] == 0);
    CHECK(values(e) == std::vector<float>{0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3});
    CHECK_THROWS_AS(row.expand({3, 5}), ShapeError);
  }
  SECTION("contiguous copies only when needed") {
    CHECK(base.contiguous().is_same(base));
    Tensor<float> t = base.transpose(0, 1).contiguous();
    CHECK(t.is_contiguous());
    CHECK(t.at({2, 1, 3}) == base.at({1, 2, 3}));
  }
}

TEST_CASE("broadcasting follows NumPy rules") {
  Tensor<double> a = arange<double>(3.0).reshape({3, 1});
  Tensor<double> b = arange<double>(4.0);
  Tensor<double> c = a * 10.0 + b;
  CHECK(c.shape() == Shape{3, 4});
  CHECK(c.at({2, 3}) == 23);
  Tensor<double> d = zeros<double>({2, 1, 4}) + ones<double>({3, 1});
  CHECK(d.shape() == Shape{2, 3, 4});
  Tensor<double> s = scalar_tensor(2.0) * b;
  CHECK(values(s) == std::vector<double>{0, 2, 4, 6});
  // broadcasting against a non-contiguous view
  Tensor<double> m = arange<double>(6.0).reshape({2, 3}).t();  // [3,2]
  CHECK(values(m - from_vector<double>({100, 200}, {2})) == std::vector<double>{-100, -197, -99, -196, -98, -195});
  const std::string msg = error_of<ShapeError>([] { (void)(zeros<float>({2, 3}) + zeros<float>({4, 3})); });
  CHECK_THAT(msg, Contains("add") && Contains("[2,3]") && Contains("[4,3]"));
  CHECK_THAT(error_of<ShapeError>([] { (void)(zeros<float>({2}) * zeros<float>({3})); }), Contains("mul"));
  CHECK_THAT(error_of<ShapeError>([] { (void)where(zeros<float>({2}), zeros<float>({3}), zeros<float>({2})); }),
             Contains("where"));
}

TEST_CASE("elementwise math") {
  Tensor<double> x = from_vector<double>({-2, -0.5, 0.5, 4}, {4});
  CHECK(values(abs(x)) == std::vector<double>{2, 0.5, 0.5, 4});
  CHECK(values(clamp(x, -1.0, 1.0)) == std::vector<double>{-1, -0.5, 0.5, 1});
  CHECK(values(clamp(x, std::nullopt, 0.0)) == std::vector<double>{-2, -0.5, 0, 0});
  CHECK(values(relu(x)) == std::vector<double>{0, 0, 0.5, 4});
  CHECK(values(sign(x)) == std::vector<double>{-1, -1, 1, 1});
  CHECK(values(pow(abs(x), 2.0)) == std::vector<double>{4, 0.25, 0.25, 16});
  CHECK(sqrt(x).at({3}) == 2);
  CHECK(std::isnan(sqrt(x).at({0})));
  CHECK(exp(log(abs(x))).at({3}) == Approx(4));
  CHECK(values(gt(x, scalar_tensor(0.0))) == std::vector<double>{0, 0, 1, 1});
  CHECK(values(x <= scalar_tensor(0.5)) == std::vector<double>{1, 1, 1, 0});
  CHECK(values(where(x > scalar_tensor(0.0), x, -x)) == values(abs(x)));
  CHECK(values(maximum(x, scalar_tensor(0.0))) == values(relu(x)));
  CHECK(values(minimum(x, scalar_tensor(0.0))) == std::vector<double>{-2, -0.5, 0, 0});
  CHECK(sigmoid(scalar_tensor(-1000.0)).item() == 0.0);
  CHECK(sigmoid(scalar_tensor(1000.0)).item() == 1.0);
  CHECK(values(1.0 / from_vector<double>({2, 4}, {2})) == std::vector<double>{0.5, 0.25});
}

// Outputs of kernels::stream_threshold() bytes or more are computed a piece at a time and
// streamed past the caches (kernels/stream_store.hpp): with the threshold at 0 every output takes
// that path, and must hold the bits ordinary stores write. Odd sizes leave partial pieces and
// lines; destinations at every offset in a line leave heads; two threads split the range at
// elements that are not line boundaries.
TEST_CASE("streamed outputs hold the bits of ordinary stores") {
  struct ThresholdGuard {
    std::size_t saved = kernels::stream_threshold();
    int threads = get_num_threads();
    ~ThresholdGuard() {
      kernels::stream_threshold() = saved;
      set_num_threads(threads);
    }
  } guard;
  const std::vector<index_t> sizes{1, 3, 15, 17, 1023, 1025, 3 * 1024 + 7, 70001, 262147};
  auto same = [](const auto& a, const auto& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(a[0])) == 0;
  };
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    INFO("threads " << threads);
    {  // fill_output at every offset in a line, elements of 1, 4 and 8 bytes: fill writes a
       // value of each index.
      auto check = [&](auto zero, index_t n, index_t shift) {
        using E = decltype(zero);
        std::vector<E> plain(n + 64), streamed(n + 64);
        auto fill = [](void*, void* out, index_t b, index_t e) {
          for (index_t i = b; i < e; ++i) static_cast<E*>(out)[i - b] = static_cast<E>(i * 2654435761u);
        };
        kernels::stream_threshold() = guard.saved;
        kernels::fill_output(plain.data() + shift, sizeof(E), n, 1, {}, nullptr, fill);
        kernels::stream_threshold() = 0;
        kernels::fill_output(streamed.data() + shift, sizeof(E), n, 1, {{{plain.data(), sizeof(E)}, {}}}, nullptr, fill);
        CHECK(same(plain, streamed));
      };
      for (index_t n : sizes)
        for (index_t shift = 0; shift < 16; ++shift) {
          INFO("n " << n << ", shift " << shift);
          check(char{}, n, shift);
          check(float{}, n, shift);
          check(std::int64_t{}, n, shift);
        }
    }
    {  // elementwise ops, contiguous and unaligned inputs
      for (index_t n : sizes) {
        INFO("n " << n);
        // Inputs start one element into their storage: loads off the line grid.
        const Tensor<float> a = randn<float>({n + 1}).narrow(0, 1, n), b = randn<float>({n + 1}).narrow(0, 1, n);
        const Tensor<double> d = randn<double>({n});
        auto run = [&] {
          return std::tuple{values(add(a, b)), values(relu(a)), values(a * 2.5f), values(exp(d)), values(a.to<std::int64_t>())};
        };
        kernels::stream_threshold() = guard.saved;
        const auto plain = run();
        kernels::stream_threshold() = 0;
        const auto streamed = run();
        CHECK(same(std::get<0>(plain), std::get<0>(streamed)));
        CHECK(same(std::get<1>(plain), std::get<1>(streamed)));
        CHECK(same(std::get<2>(plain), std::get<2>(streamed)));
        CHECK(same(std::get<3>(plain), std::get<3>(streamed)));
        CHECK(same(std::get<4>(plain), std::get<4>(streamed)));
      }
    }
    {  // max_pool2d 2x2: values, and the indices through the gradient they route
      for (const Shape& shape : {Shape{2, 3, 6, 10}, Shape{1, 2, 9, 301}, Shape{3, 1, 4, 514}}) {
        INFO("shape " << to_string(shape));
        const Tensor<float> x = randn<float>(shape);
        auto run = [&] {
          Tensor<float> leaf = x.detach().requires_grad_(true);
          const Tensor<float> y = max_pool2d(leaf, Size2{2, 2});
          Generator gen(7);
          y.backward(randn<float>(y.shape(), gen));
          return std::pair{values(y), values(leaf.grad())};
        };
        kernels::stream_threshold() = guard.saved;
        const auto plain = run();
        kernels::stream_threshold() = 0;
        const auto streamed = run();
        CHECK(same(plain.first, streamed.first));
        CHECK(same(plain.second, streamed.second));
      }
    }
  }
}

TEST_CASE("reductions over any dims, with keepdim") {
  Tensor<double> x = arange<double>(24.0).reshape({2, 3, 4});
  CHECK(x.sum().item() == 276);
  CHECK(x.sum({1}).shape() == Shape{2, 4});
  CHECK(x.sum({1}, {.keepdim = true}).shape() == Shape{2, 1, 4});
  CHECK(x.sum({0, 2}).to_vector() == std::vector<double>{60, 92, 124});
  CHECK(x.sum({-1}).at({1, 2}) == 20 + 21 + 22 + 23);
  CHECK(x.mean({0}).at({0, 0}) == 6);
  CHECK(x.max().item() == 23);
  CHECK(x.min({2}).to_vector() == std::vector<double>{0, 4, 8, 12, 16, 20});
  CHECK(x.max({0, 1}, {.keepdim = true}).shape() == Shape{1, 1, 4});
  CHECK(values(x.argmax(1)) == std::vector<std::int64_t>{2, 2, 2, 2, 2, 2, 2, 2});
  CHECK(x.argmax().item() == 23);
  CHECK(x.argmax(-1, {.keepdim = true}).shape() == Shape{2, 3, 1});
  CHECK(from_vector<double>({1, 2, 3, 4}, {4}).var().item() == Approx(5.0 / 3.0));
  CHECK(from_vector<double>({1, 2, 3, 4}, {4}).var({}, false).item() == Approx(1.25));
  CHECK(x.var({2}).at({0, 0}) == Approx(5.0 / 3.0));
  // non-contiguous input
  CHECK(x.transpose(0, 2).sum({0}).to_vector() == x.sum({2}).t().contiguous().to_vector());
  CHECK_THROWS_AS(x.sum({3}), ValueError);
  CHECK_THROWS_AS(x.sum({1, 1}), ValueError);
  CHECK_THROWS_AS(zeros<double>({0}).max(), ValueError);
  // NaN propagates through max, as in PyTorch
  CHECK(std::isnan(from_vector<double>({1, NAN, 3}, {3}).max().item()));
  // float sums accumulate in double: a million 0.1f sum to within float rounding
  CHECK(full<float>({1000000}, 0.1f).sum().item() == Approx(100000.0).epsilon(1e-6));
}

TEST_CASE("matmul: 1-D, 2-D, batched with broadcasting, transposed operands") {
  Tensor<double> a = arange<double>(6.0).reshape({2, 3});
  Tensor<double> b = arange<double>(12.0).reshape({3, 4});
  Tensor<double> c = a.matmul(b);
  CHECK(c.shape() == Shape{2, 4});
  CHECK(values(c) == std::vector<double>{20, 23, 26, 29, 56, 68, 80, 92});
  CHECK(values(a.t().t().matmul(b)) == values(c));
  CHECK(values(b.t().matmul(a.t())) == values(c.t().contiguous()));  // both operands transposed
  Tensor<double> v = from_vector<double>({1, 0, -1}, {3});
  CHECK(values(a.matmul(v)) == std::vector<double>{-2, -2});
  CHECK(values(v.matmul(b)) == std::vector<double>{-8, -8, -8, -8});
  CHECK(v.matmul(v).item() == 2);
  CHECK(v.matmul(v).dim() == 0);
  Tensor<double> batch = arange<double>(2 * 2 * 3.0).reshape({2, 1, 2, 3});
  Tensor<double> r = batch.matmul(b.unsqueeze(0).expand({5, 3, 4}));
  CHECK(r.shape() == Shape{2, 5, 2, 4});
  CHECK(values(r.select(0, 0).select(0, 4)) == values(c));
  CHECK_THAT(error_of<ShapeError>([&] { (void)a.matmul(a); }), Contains("matmul") && Contains("[2,3]"));
  CHECK_THROWS_AS(mm(v, b), ShapeError);
}

TEST_CASE("cat and stack") {
  Tensor<float> a = arange<float>(6.f).reshape({2, 3});
  Tensor<float> b = full<float>({1, 3}, -1.f);
  Tensor<float> c = cat<float>({a, b}, 0);
  CHECK(c.shape() == Shape{3, 3});
  CHECK(values(c.select(0, 2)) == std::vector<float>{-1, -1, -1});
  CHECK(cat<float>({a, a.t().t()}, -1).shape() == Shape{2, 6});
  Tensor<float> s = stack<float>({a, a, a}, 1);
  CHECK(s.shape() == Shape{2, 3, 3});
  CHECK(values(s.select(1, 2)) == values(a));
  CHECK_THAT(error_of<ShapeError>([&] { (void)cat<float>({a, b}, 1); }), Contains("cat") && Contains("[1,3]"));
  CHECK_THROWS_AS(stack<float>({a, b}), ShapeError);
}

TEST_CASE("in-place updates") {
  Tensor<float> x = zeros<float>({2, 3});
  x.narrow(1, 1, 1).fill_(5);
  CHECK(values(x) == std::vector<float>{0, 5, 0, 0, 5, 0});
  x.add_(arange<float>(3.f), 2.f);
  CHECK(values(x) == std::vector<float>{0, 7, 4, 0, 7, 4});
  x.mul_(0.5f);
  CHECK(x.at({0, 1}) == 3.5f);
  x.copy_(from_vector<float>({1, 2}, {2, 1}));
  CHECK(values(x) == std::vector<float>{1, 1, 1, 2, 2, 2});
  // copying a tensor into a view of itself goes through a temporary
  x.copy_(x.flatten().slice(0, std::nullopt, std::nullopt, 1).reshape({2, 3}).select(1, 0).unsqueeze(1).detach());
  CHECK(values(x) == std::vector<float>{1, 1, 1, 2, 2, 2});
  CHECK_THROWS_AS(x.copy_(zeros<float>({4})), ShapeError);
  Tensor<float> p = ones<float>({2}).requires_grad_();
  CHECK_THROWS_AS(p.fill_(0), AutogradError);
  {
    NoGradGuard ng;
    p.fill_(3);
  }
  CHECK(p.at({0}) == 3);
}

TEST_CASE("printing matches PyTorch's format") {
  CHECK(to_string(from_vector<float>({1, -2.5f, 3, 4}, {2, 2})) == "tensor([[ 1.0000, -2.5000],\n        [ 3.0000,  4.0000]])");
  CHECK(to_string(arange<float>(3.f)) == "tensor([0., 1., 2.])");
  CHECK(to_string(scalar_tensor(0.5f)) == "tensor(0.5000)");
  CHECK(to_string(from_vector<float>({1e-5f, 1.f}, {2})) == "tensor([1.0000e-05, 1.0000e+00])");
  CHECK(to_string(arange<std::int64_t>(3)) == "tensor([0, 1, 2])");
  CHECK(to_string(zeros<float>({0, 3})) == "tensor([], size=(0, 3))");
  CHECK(to_string(ones<double>({2}).requires_grad_()) == "tensor([1., 1.], dtype=float64, requires_grad=True)");
  CHECK(to_string(arange<float>(8.f).reshape({2, 2, 2})) ==
        "tensor([[[0., 1.],\n         [2., 3.]],\n\n        [[4., 5.],\n         [6., 7.]]])");
  // Long rows wrap at 80 columns and large tensors are summarised, as PyTorch prints them.
  CHECK(to_string(arange<float>(2000.f)) ==
        "tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 1.9970e+03, 1.9980e+03,\n        1.9990e+03])");
  const std::string grid = to_string(arange<float>(2000.f).reshape({20, 100}));
  // torch.arange(2000.).reshape(20, 100), as PyTorch 1.13 prints it
  CHECK(grid ==
        "tensor([[0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 9.7000e+01, 9.8000e+01,\n"
        "         9.9000e+01],\n"
        "        [1.0000e+02, 1.0100e+02, 1.0200e+02,  ..., 1.9700e+02, 1.9800e+02,\n"
        "         1.9900e+02],\n"
        "        [2.0000e+02, 2.0100e+02, 2.0200e+02,  ..., 2.9700e+02, 2.9800e+02,\n"
        "         2.9900e+02],\n"
        "        ...,\n"
        "        [1.7000e+03, 1.7010e+03, 1.7020e+03,  ..., 1.7970e+03, 1.7980e+03,\n"
        "         1.7990e+03],\n"
        "        [1.8000e+03, 1.8010e+03, 1.8020e+03,  ..., 1.8970e+03, 1.8980e+03,\n"
        "         1.8990e+03],\n"
        "        [1.9000e+03, 1.9010e+03, 1.9020e+03,  ..., 1.9970e+03, 1.9980e+03,\n"
        "         1.9990e+03]])");
  CHECK_THAT(grid, Contains("],\n        ...,\n        [1.7000e+03"));
}

TEST_CASE("errors name the op and the shapes") {
  Tensor<float> x = zeros<float>({2, 3});
  CHECK_THAT(error_of<ShapeError>([&] { (void)x.reshape({4, 2}); }), Contains("reshape") && Contains("[4,2]"));
  CHECK_THAT(error_of<ValueError>([&] { (void)x.transpose(0, 2); }), Contains("transpose") && Contains("dim 2"));
  CHECK_THAT(error_of<ValueError>([&] { (void)x.narrow(1, 2, 2); }), Contains("narrow") && Contains("[2,3]"));
  CHECK_THAT(error_of<ValueError>([&] { (void)x.permute({0, 0}); }), Contains("permute"));
  CHECK_THAT(error_of<ValueError>([&] { (void)x.at({2, 0}); }), Contains("at"));
  CHECK_THAT(error_of<ValueError>([&] { (void)x.item(); }), Contains("item") && Contains("[2,3]"));
  CHECK_THROWS_AS(Tensor<float>().shape(), Error);
}

TEST_CASE("Shape: a vector of up to kMaxDims sizes held inline") {
  Shape s{2, 3};
  s.push_back(4);
  s.insert(s.begin(), 1);
  CHECK(s == Shape{1, 2, 3, 4});
  s.erase(s.begin() + 1);
  CHECK(s == Shape{1, 3, 4});
  s.insert(s.end(), {5, 6});
  CHECK(s == Shape{1, 3, 4, 5, 6});
  s.erase(s.begin(), s.begin() + 2);
  CHECK(s == Shape{4, 5, 6});
  s.resize(5, 7);
  CHECK(s == Shape{4, 5, 6, 7, 7});
  CHECK(s.back() == 7);
  s.pop_back();
  CHECK(s.size() == 4);
  CHECK(s != Shape{4, 5, 6});
  CHECK(Shape(3, 1) == Shape{1, 1, 1});
  CHECK(Shape(std::vector<index_t>{8, 9}) == Shape{8, 9});
  CHECK(Shape{8, 9} == std::vector<index_t>{8, 9});
  CHECK_FALSE(Shape{8, 9} == std::vector<index_t>(kMaxDims + 1, 8));
  CHECK(std::vector<index_t>(Shape{8, 9}) == std::vector<index_t>{8, 9});
  CHECK(Shape{}.empty());
  CHECK(to_string(Shape{2, 3}) == "[2,3]");

  // One dim more than kMaxDims is a clear ValueError wherever a shape grows past it.
  const Shape full(kMaxDims, 1);
  CHECK_THAT(error_of<ValueError>([&] { Shape t = full; t.push_back(1); }), Contains("at most 16"));
  CHECK_THAT(error_of<ValueError>([&] { Shape t(kMaxDims + 1, 1); }), Contains("17 dims"));
  CHECK_THAT(error_of<ValueError>([&] { Shape t = full; t.insert(t.begin(), 1); }), Contains("at most"));
  CHECK_THAT(error_of<ValueError>([&] { Shape t = full; t.insert(t.begin(), {1, 1}); }), Contains("at most"));
  CHECK_THAT(error_of<ValueError>([&] { (void)Shape(std::vector<index_t>(kMaxDims + 1, 1)); }), Contains("at most"));
  const Tensor<float> x = ones<float>(full);
  CHECK(x.dim() == static_cast<index_t>(kMaxDims));
  CHECK_THAT(error_of<ValueError>([&] { (void)x.unsqueeze(0); }), Contains("at most"));
}

TEST_CASE("type conversion") {
  Tensor<float> f = from_vector<float>({1.5f, -2.f}, {2});
  Tensor<double> d = f.to<double>();
  CHECK(values(d) == std::vector<double>{1.5, -2.0});
  CHECK(values(f.to<std::int64_t>()) == std::vector<std::int64_t>{1, -2});
}

TEST_CASE("Eigen interop: a map of a tensor and a tensor from Eigen") {
  Tensor<double> t = arange<double>(6.0).reshape({2, 3});
  auto m = as_eigen(t);
  CHECK(m.rows() == 2);
  CHECK(m(1, 2) == 5);
  m(0, 0) = 42;
  CHECK(t.at({0, 0}) == 42);
  auto mt = as_eigen(t.t());  // a transposed view maps without a copy
  CHECK(mt(2, 1) == 5);
  Eigen::MatrixXd e(2, 2);
  e << 1, 2, 3, 4;
  Tensor<double> f = from_eigen(e * 2.0);
  CHECK(f.to_vector() == std::vector<double>{2, 4, 6, 8});
  CHECK((as_eigen(f) - 2.0 * e).norm() == 0);
  CHECK_THROWS_AS(as_eigen(arange<double>(3.0)), ShapeError);
  CHECK_THROWS_AS(as_eigen(ones<double>({1, 3}).expand({2, 3})), ValueError);
}
